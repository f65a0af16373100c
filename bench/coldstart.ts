/**
 * Cold start (issue 25): `npm run demo -- --duration 30` on a fresh machine. A fresh clone of this repository's
 * committed HEAD in a temporary folder, with empty caches of its own (OBSERVATORY_CACHE_DIR, GOCACHE and GOMODCACHE
 * there too: every Go module downloaded, the standard library and every package compiled, ElasticMQ's jars fetched),
 * its stack and demo on ports of their own. npm's cache stays warm: `npm ci`'s download is not what this measures,
 * its install is. It reports the whole run, each phase as the demo's progress lines mark it, the longest silence
 * during the builds (the progress must keep coming), the CPU time of the run and the load average around it.
 *
 *   npm run bench -- coldstart [--duration 30] [--port-base 27700] [--sequential] [--keep]
 *
 * --sequential builds one binary after another (OBSERVATORY_BUILD_PARALLEL=false), to compare. Takes 8–15 minutes
 * and the network; not in the full run. The temporary folder is removed unless --keep.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../common/paths.ts';
import { portEnvironment } from '../stack/config.ts';
import { firstAt, lastAt, longestSilence, timedRun, type TimedLine } from './lib/timed-run.ts';
import { printFigures, type Figure } from './report.ts';

const COMPONENTS = ['s3', 'sqs', 'jaeger', 'collector'] as const;

/**
 * The environment of a run on its own: its ports (base..base+13 the stack, +50 the console, +60.. the demo's
 * services) and, unless `warm`, empty caches under `root`. None of the caller's own settings.
 */
export function coldEnvironment(
  root: string,
  base: number,
  options: { sequential?: boolean; warm?: boolean } = {},
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  const caches = ['OBSERVATORY_CACHE_DIR', 'GOCACHE', 'GOMODCACHE'];
  for (const key of Object.keys(env))
    if (
      (key.startsWith('OBSERVATORY_') || key.startsWith('OTEL_')) &&
      !(options.warm && caches.includes(key))
    )
      delete env[key];
  return {
    ...env,
    ...portEnvironment(base),
    OBSERVATORY_UI_PORT: String(base + 50),
    OBSERVATORY_GATEWAY_PORT: String(base + 60),
    OBSERVATORY_CATALOG_PORT: String(base + 61),
    OBSERVATORY_DOWNLOADS_PORT: String(base + 62),
    OBSERVATORY_USERS_PORT: String(base + 63),
    OBSERVATORY_ETL_PORT: String(base + 64),
    ...(options.warm
      ? { OBSERVATORY_STACK_DIR: join(root, 'stack') }
      : {
          OBSERVATORY_CACHE_DIR: join(root, 'cache'),
          GOCACHE: join(root, 'gocache'),
          GOMODCACHE: join(root, 'gomodcache'),
        }),
    ...(options.sequential ? { OBSERVATORY_BUILD_PARALLEL: 'false' } : {}),
  };
}

/** The phases of one run, in seconds from its start, read from its progress lines. */
export function coldPhases(lines: TimedLine[], total: number): Record<string, number | undefined> {
  const buildLine = /^(s3|sqs|jaeger|collector): /;
  const buildsFrom = firstAt(lines, buildLine);
  const buildsTo = lastAt(lines, /^(s3|sqs|jaeger|collector): .* done in /);
  const stackUp = firstAt(lines, /^stack: up in /);
  const seeding = firstAt(lines, /^demo: seeding/);
  const servicesUp = firstAt(lines, /^demo: services up/);
  const phases: Record<string, number | undefined> = {
    'set-up (npm ci, the console front end)': buildsFrom,
    'builds (every binary)': span(buildsFrom, buildsTo),
    'stack start': span(buildsTo, stackUp),
    'services start': span(seeding, servicesUp),
    'first trace link': firstAt(lines, /^First trace/),
    total,
  };
  for (const component of COMPONENTS) {
    phases[`build: ${component}`] = span(
      firstAt(lines, new RegExp(`^${component}: `)),
      lastAt(lines, new RegExp(`^${component}: .* done in `)),
    );
  }
  if (buildsFrom !== undefined && buildsTo !== undefined)
    phases['longest silence during the builds'] = longestSilence(lines, buildsFrom, buildsTo);
  return phases;
}

const span = (from?: number, to?: number) => (from === undefined || to === undefined ? undefined : to - from);

export async function runColdStart(options: {
  duration: number;
  portBase: number;
  sequential: boolean;
  keep: boolean;
}): Promise<Figure[]> {
  const root = mkdtempSync(join(tmpdir(), 'observatory-coldstart-'));
  for (const dir of ['cache', 'gocache', 'gomodcache']) mkdirSync(join(root, dir));
  const clone = join(root, 'repo');
  execFileSync('git', ['clone', '-q', REPO_ROOT, clone]);
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: clone,
    encoding: 'utf8',
  }).trim();
  process.stderr.write(`coldstart: commit ${commit} cloned into ${clone}; empty caches beside it\n`);
  try {
    const run = await timedRun('npm', ['run', 'demo', '--', '--duration', String(options.duration)], {
      cwd: clone,
      env: coldEnvironment(root, options.portBase, { sequential: options.sequential }),
      echo: (line) => process.stderr.write(`${line.at.toFixed(1).padStart(7)} ${line.text}\n`),
    });
    if (run.code !== 0) throw new Error(`npm run demo exited ${run.code}`);
    const load = `load ${run.loadBefore[0]!.toFixed(1)} before, ${run.loadAfter[0]!.toFixed(1)} after`;
    const how = options.sequential ? 'builds one after another' : 'builds side by side';
    const figures: Figure[] = Object.entries(coldPhases(run.lines, run.seconds))
      .filter((entry): entry is [string, number] => entry[1] !== undefined)
      .map(([phase, seconds]) => ({
        id: `coldstart.${phase.split(' ')[0]!.replace(/[^a-z0-9]/g, '')}${phase.includes(':') ? `.${phase.split(': ')[1]}` : ''}`,
        figure: `Cold start, ${phase} (${how}; ${load})`,
        ours: seconds,
        unit: 's',
        better: 'lower' as const,
        ...(phase === 'total' ? { target: 480 } : {}),
        ...(phase === 'longest silence during the builds' ? { target: 12 } : {}),
      }));
    figures.push({
      id: 'coldstart.cpu',
      figure: `Cold start, CPU time of the whole run (user + system; ${how})`,
      ours: run.cpuSeconds,
      unit: 's',
      better: 'lower',
    });
    return figures;
  } finally {
    // The demo stops its stack when it ends; a failed run may leave one: stop it by its pid files.
    execFileSync(process.execPath, ['cli/bin.js', 'stack', 'down'], {
      cwd: clone,
      env: coldEnvironment(root, options.portBase, { sequential: options.sequential }),
      stdio: 'ignore',
    });
    if (!options.keep) rmSync(root, { recursive: true, force: true });
  }
}

export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '30' },
      'port-base': { type: 'string', default: '27700' },
      sequential: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  });
  const figures = await runColdStart({
    duration: Number(values.duration),
    portBase: Number(values['port-base']),
    sequential: values.sequential,
    keep: values.keep,
  });
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
