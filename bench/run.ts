/**
 * The bench's entry point.
 *
 *   npm run bench [-- --quick] [--only memory,etl] [--skip collector]   every benchmark of issue 17, one table
 *   npm run bench -- <name> [options]                                   one benchmark alone, with its own options
 *
 * The full run brings the local stack up first (and down at the end when it was not already up), runs the benches
 * one after another with the options of FULL (or QUICK: a ~5-minute smoke run), keeps going when one fails (a failed
 * row), prints one table of every figure and writes it to .observatory/bench/results.json and results.md. It exits
 * non-zero when any bench failed. Start it inside a network namespace of its own when other stacks run on the
 * machine: `unshare --net sh -c 'ip link set lo up && npm run bench'`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, STATE_ROOT } from '../common/paths.ts';
import { Stack } from '../stack/stack.ts';
import { failures, markdownReport, mergeFigures, runReport, type BenchOutcome } from './lib/run-report.ts';
import { tableOf, type Figure } from './report.ts';

/** Every bench that can run alone. */
const BENCHES = [
  'instrumentation',
  'profile',
  'shutdown',
  'tracker',
  'etl',
  'sandbox',
  'lake',
  'chaos',
  'tiers',
  'collector',
  'jaeger',
  'freshness',
  'memory',
  'console',
  // Not in PLAN: 30 minutes by default (`npm run bench -- soak [--minutes N]`).
  'soak',
  'trace-views',
  's3-listing',
  // Not in PLAN: a fresh clone with empty caches builds everything (8–15 minutes, the network).
  'coldstart',
  // Not in PLAN: the demo on a stack of its own, started from stopped.
  'first-look',
  'context-binding',
];

/**
 * The full run, in order, with each bench's options: FULL keeps the whole run under ~25 minutes on a 2-core machine,
 * QUICK (`--quick`) under ~5 minutes. An empty list means the bench's own defaults.
 */
const PLAN: { name: string; full: string[]; quick: string[] }[] = [
  {
    name: 'instrumentation',
    full: [],
    quick: ['--seconds', '3', '--rounds', '1', '--warmup', '2'],
  },
  {
    name: 'collector',
    // Issue 25's kept changes undone at once (before-25) and the redaction's share, beside the pipeline as committed;
    // every stage alone: `npm run bench -- collector`.
    full: ['--seconds', '15', '--variants', 'full,before-25,no-redaction'],
    quick: ['--rates', '10000', '--seconds', '5', '--variants', 'full'],
  },
  { name: 'freshness', full: [], quick: ['--requests', '20'] },
  { name: 'tracker', full: [], quick: ['--calls', '50000', '--sizes', '10000'] },
  {
    name: 'etl',
    full: ['--sizes', '1,2,4', '--rounds', '3'],
    quick: ['--sizes', '1,2', '--rounds', '1', '--chunks', '16', '--warm', '5'],
  },
  {
    name: 'memory',
    full: [],
    quick: ['--idle', '2', '--small', '2000', '--large', '50000', '--load-seconds', '10'],
  },
  { name: 'console', full: [], quick: ['--rows', '3000000'] },
  { name: 'trace-views', full: [], quick: ['--rounds', '1'] },
  { name: 's3-listing', full: [], quick: ['--steps', '0,5000', '--rounds', '5'] },
];

type BenchModule = { cli?: (argv: string[]) => Promise<Figure[]> };

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Runs one bench in this process, with its options: every bench exports `cli(argv)` (the contract). */
async function runBench(name: string, argv: string[]): Promise<Figure[]> {
  const bench = (await import(`./${name}.ts`)) as BenchModule;
  if (!bench.cli) throw new Error(`bench/${name}.ts exports no cli(argv)`);
  return await bench.cli(argv);
}

/** Runs `run`, then puts process.env back as it was: a bench's settings must not leak into the next one's. */
async function withEnvironmentRestored<T>(run: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  try {
    return await run();
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

function machineNow(): { cores: number; memoryGiB: number; cpuModel: string; load: number[] } {
  return {
    cores: availableParallelism(),
    memoryGiB: totalmem() / 2 ** 30,
    cpuModel: cpus()[0]?.model ?? 'unknown CPU',
    load: loadavg(),
  };
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

async function fullRun(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      skip: { type: 'string', default: '' },
    },
  });
  const only = values.only?.split(',');
  const skip = values.skip.split(',');
  for (const name of [...(only ?? []), ...skip.filter(Boolean)])
    if (!PLAN.some((p) => p.name === name))
      throw new Error(`unknown bench "${name}"; the full run has ${PLAN.map((p) => p.name).join(', ')}`);
  const plan = PLAN.filter((p) => (only ? only.includes(p.name) : true) && !skip.includes(p.name));

  const date = new Date();
  const start = machineNow();
  const stack = new Stack({ say: (line) => log(`stack: ${line}`) });
  const wasUp = (await stack.status()).healthy;
  const outcomes: BenchOutcome[] = [];
  try {
    if (!wasUp && !(await stack.up()).healthy) throw new Error('the local stack is not healthy');
    for (const { name, full, quick } of plan) {
      const options = values.quick ? quick : full;
      const began = performance.now();
      try {
        log(`${name} ${options.join(' ')}`.trim());
        const figures = await withEnvironmentRestored(() => runBench(name, options));
        outcomes.push({ name, argv: options, seconds: (performance.now() - began) / 1000, figures });
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        log(`${name} failed: ${message}`);
        outcomes.push({
          name,
          argv: options,
          seconds: (performance.now() - began) / 1000,
          figures: [],
          error: error instanceof Error ? error.message : String(error),
        });
      }
      log(`${name}: ${((performance.now() - began) / 1000).toFixed(0)} s`);
    }
  } finally {
    if (!wasUp) await stack.down();
  }

  const end = machineNow();
  const report = runReport({
    date,
    node: process.version,
    commit: gitCommit(),
    quick: values.quick,
    machine: {
      cores: start.cores,
      memoryGiB: start.memoryGiB,
      cpuModel: start.cpuModel,
      loadStart: start.load,
      loadEnd: end.load,
    },
    outcomes,
  });
  const figures = mergeFigures(outcomes);
  const dir = join(STATE_ROOT, 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'results.md'), markdownReport(report, figures));
  process.stdout.write(
    `\n## All figures\n\n${tableOf(figures)}\n\n(written to ${dir}/results.json and results.md)\n`,
  );
  const failed = failures(outcomes);
  if (failed.length) log(`failed: ${failed.join(', ')}`);
  return failed.length ? 1 : 0;
}

const [first, ...rest] = process.argv.slice(2);
if (first !== undefined && !first.startsWith('-')) {
  if (!BENCHES.includes(first)) {
    process.stderr.write(
      `usage: npm run bench [-- --quick] [--only a,b] [--skip a,b]\n` +
        `       npm run bench -- <${BENCHES.join('|')}> [options]\n`,
    );
    process.exit(2);
  }
  const figures = await runBench(first, rest);
  if (figures.some((f) => f.failed !== undefined)) process.exitCode = 1;
} else {
  process.exitCode = await fullRun(process.argv.slice(2));
}
// A bench may leave a client's keep-alive socket or a timer behind: do not let it hold the run open.
setTimeout(() => process.exit(), 5000).unref();
