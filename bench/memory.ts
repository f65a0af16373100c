/**
 * What the telemetry costs in memory (issue 17), measured side by side in one run, each part on a fresh stack of its
 * own (ports 26400+, its own state folder, so a running default stack is never touched):
 *
 * - idle: the bench's hello-world Express app (bench/fixtures/app.cjs) plain, under our preload from this
 *   repository's source (`--require ./instrumentation`, Node's type stripping included), under the installable
 *   package (`npm run build:packages`, built first: what a team installs), under any `--preload <label>=<path>` given
 *   (an earlier commit's built package, to compare before and after in one run) and under the zero-code anchor
 *   (`--require @opentelemetry/auto-instrumentations-node/register`), started together, left idle, given a few
 *   requests, idle again, then their RSS read from /proc. Figure: the RSS the package adds (target ≤ 25 MiB), the
 *   others beside it. Rounds use fresh processes; medians.
 * - startup: the same preloads, each in a process of its own started one after another (rounds interleaved):
 *   bench/fixtures/preload-clock.cjs times the preload from its require to its return, when the app's first line
 *   would run. Figure: the package's wall time (target ≤ 300 ms), its process CPU time and the others beside it.
 *   No stack: a preload's start connects to nothing.
 * - heap: the same app under the preload, run with --expose-gc; after `--small` requests and again after `--large`
 *   (autocannon), the fixture's memory hook forces a full GC and reports heapUsed. Figure: the growth between the
 *   two (target ≤ 20 MiB); the plain app's growth under the same load is printed beside it.
 * - demo: the demo platform (every service and the ETL listener under the preload) on that stack, run as `npm run
 *   demo` runs it and driven by its load generator for `--load-seconds` at `--rate` (bench/lib/demo-run.ts), once per
 *   design, each on a fresh stack: the previous design (V8's and glibc's defaults, four sandboxes kept warm 60 s, the
 *   load straight after the start, the TypeScript sources), the current one with the sources (what the JavaScript
 *   build saves) and the current one (the demo's memory settings, the warm-up, the build). Figures: the
 *   peak of the summed RSS (target ≤ 1 GiB); each service's steady RSS (the median during the load, target ≤ 150
 *   MiB); a worker sandbox's peak (VmHWM, target ≤ 110 MiB, issue 24); search p95 and p99 of the load's first 10 s and of the
 *   whole run (targets 150 and 300 ms); the platform's CPU time per request.
 * - cli: the whole `observatory demo --duration <load-seconds>` as a user runs it, its own CLI process (the load
 *   generator, the console, the lake query) included, on a fresh stack of the components the demo starts: every
 *   process summed each second; figure: the peak of summed PSS (target ≤ 1 GiB), summed RSS beside it.
 *
 *   npm run bench -- memory [--parts idle,startup,heap,demo,cli] [--rounds 3] [--idle 5] [--startup-rounds 7]
 *                           [--preload <label>=<path>]… [--small 10000] [--large 1000000]
 *                           [--connections 16] [--load-seconds 30] [--rate 20] [--base 26400]
 *                           [--designs previous,sources,ours]
 *
 * Starts a stack: run it inside a network namespace when other stacks run on the machine.
 */

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { REPO_ROOT } from '../common/paths.ts';
import { demoComponents } from '../demo/demo.ts';
import { etlConfig } from '../etl/config.ts';
import type { ComponentName } from '../stack/components.ts';
import { sleep } from '../common/poll.ts';
import { startIsolatedStack, type IsolatedStack } from '../stack/isolated-stack.ts';
import { APP, startApp, type App } from './lib/fixture-app.ts';
import { statusMiB } from './lib/proc.ts';
import {
  measureDemo,
  measureDemoCli,
  type DemoCliRun,
  type DemoDesign,
  type DemoRun,
} from './lib/demo-run.ts';
import { failedFigure, printFigures, type Figure } from './report.ts';

const MiB = 2 ** 20;
const PARTS = ['idle', 'startup', 'heap', 'demo', 'cli'] as const;
type Part = (typeof PARTS)[number];
const DESIGN_NAMES = ['previous', 'sources', 'ours'] as const;
type Design = (typeof DESIGN_NAMES)[number];

interface Options {
  parts: Part[];
  rounds: number;
  idleSeconds: number;
  /** Processes per variant in the startup part. */
  startupRounds: number;
  /** More preloads beside ours (`--preload <label>=<path>`), e.g. an earlier commit's built package. */
  preloads: { label: string; path: string }[];
  small: number;
  large: number;
  connections: number;
  loadSeconds: number;
  rate: number;
  base: number;
  /** The demo designs the demo part runs, each on a fresh stack. */
  designs: Design[];
}

const log = (line: string) => process.stderr.write(`[memory] ${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const mib = (x: number) => `${x.toFixed(1)} MiB`;

// ---------------------------------------------------------------------------------------------------------------
// The fixture app

async function someRequests(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/api/scenes/s-${i}`);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`app answered ${response.status}`);
  }
}

/** The fixture's memory hook (BENCH_MEMORY_HOOK): a full GC in the app, then its heapUsed and RSS. */
function sampleHeap(app: App): Promise<{ heapUsed: number; rss: number }> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { memory?: { heapUsed: number; rss: number } }) => {
      if (!message.memory) return;
      app.child.off('message', onMessage);
      clearTimeout(timer);
      resolve(message.memory);
    };
    const timer = setTimeout(
      () => reject(new Error('the app did not answer the memory hook in 30 s')),
      30_000,
    );
    app.child.on('message', onMessage);
    app.child.send('memory-sample');
  });
}

async function load(port: number, amount: number, connections: number): Promise<number> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/api/scenes/s-1`,
    connections,
    amount,
  });
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) throw new Error(`${failed} of ${amount} requests failed`);
  return result.requests.average;
}

// ---------------------------------------------------------------------------------------------------------------
// the preloads compared: the plain app, ours from source and as the installable package, the zero-code anchor

interface Variant {
  name: string;
  /** What `--require` loads; none for the plain app. */
  preload?: string;
  env: Record<string, string>;
}

/** The installable package's preload, as `npm run build:packages` leaves it (built at the start of the bench). */
const PACKAGE_PRELOAD = join(REPO_ROOT, 'packages', 'dist', 'instrumentation', 'instrumentation', 'index.js');
const ANCHOR_PRELOAD = '@opentelemetry/auto-instrumentations-node/register';

/** The variants of the idle and startup parts, `--preload <label>=<path>` ones after ours (e.g. an earlier build). */
function variants(options: Options): Variant[] {
  return [
    { name: 'plain', env: {} },
    {
      name: 'source',
      preload: join(REPO_ROOT, 'instrumentation'),
      env: { OTEL_SERVICE_NAME: 'bench-memory' },
    },
    { name: 'package', preload: PACKAGE_PRELOAD, env: { OTEL_SERVICE_NAME: 'bench-memory' } },
    ...options.preloads.map(({ label, path }) => ({
      name: label,
      preload: resolve(REPO_ROOT, path),
      env: { OTEL_SERVICE_NAME: `bench-memory-${label}` },
    })),
    { name: 'anchor', preload: ANCHOR_PRELOAD, env: { OTEL_SERVICE_NAME: 'bench-memory-anchor' } },
  ];
}

/** Builds the installable package, so that the `package` variant is the code of this checkout. */
function buildPackage(): void {
  log('building the installable package (npm run build:packages)');
  execFileSync(process.execPath, [join(REPO_ROOT, 'packages', 'build.ts')], {
    cwd: REPO_ROOT,
    stdio: 'ignore',
  });
}

// ---------------------------------------------------------------------------------------------------------------
// idle: every variant started together, idle, 20 requests, idle, then the RSS of each

async function idleRss(options: Options, stackEnv: Record<string, string | undefined>): Promise<Figure[]> {
  const all = variants(options);
  const samples = new Map<string, number[]>(all.map((v) => [v.name, []]));
  for (let round = 1; round <= options.rounds; round++) {
    const apps = await Promise.all(
      all.map((v) => startApp(v.preload ? ['--require', v.preload] : [], { ...stackEnv, ...v.env }, false)),
    );
    try {
      await sleep(options.idleSeconds * 1000);
      await Promise.all(apps.map((app) => someRequests(app.port, 20)));
      await sleep(Math.min(2, options.idleSeconds) * 1000);
      all.forEach((v, i) => samples.get(v.name)!.push(statusMiB(apps[i]!.child.pid!, 'VmRSS')!));
    } finally {
      await Promise.all(apps.map((app) => app.stop()));
    }
    log(
      `idle round ${round}/${options.rounds}: ${all.map((v) => `${v.name} ${mib(samples.get(v.name)!.at(-1)!)}`).join(', ')}`,
    );
  }
  const rss = (name: string) => median(samples.get(name)!);
  const plain = rss('plain');
  process.stdout.write(
    `\n### Idle RSS of the hello-world Express app (median of ${options.rounds} rounds, ${options.idleSeconds} s idle + 20 requests)\n\n` +
      `| variant | RSS | added |\n| --- | --- | --- |\n` +
      all.map((v) => `| ${v.name} | ${mib(rss(v.name))} | +${mib(rss(v.name) - plain)} |`).join('\n') +
      '\n',
  );
  const added = (name: string) => rss(name) - plain;
  return [
    {
      id: 'MEM.idle.preload',
      figure: 'Idle RSS the preload (the installable package) adds to a hello-world Express app',
      ours: added('package'),
      unit: 'MiB',
      target: 25,
      better: 'lower',
      note: `plain ${mib(plain)}, package ${mib(rss('package'))}; zero-code anchor +${mib(added('anchor'))}${extraNote(options, added)}`,
    },
    {
      id: 'MEM.idle.source',
      figure:
        "Idle RSS the preload adds run from this repository's TypeScript source (type stripping included)",
      ours: added('source'),
      unit: 'MiB',
      better: 'lower',
    },
    {
      id: 'MEM.idle.anchor',
      figure: 'Idle RSS the zero-code anchor adds to the same app',
      ours: added('anchor'),
      unit: 'MiB',
      better: 'lower',
    },
  ];
}

/** The `--preload` variants' figures, for a note. */
function extraNote(options: Options, figure: (name: string) => number, unit = 'MiB'): string {
  const sign = unit === 'MiB' ? '+' : '';
  return options.preloads
    .map(({ label }) => `; ${label} ${sign}${figure(label).toFixed(1)} ${unit}`)
    .join('');
}

// ---------------------------------------------------------------------------------------------------------------
// startup: each variant's preload from its require to its return, processes one at a time, rounds interleaved

async function startupTimes(
  options: Options,
  stackEnv: Record<string, string | undefined>,
): Promise<Figure[]> {
  const all = variants(options).filter((v) => v.preload);
  const wall = new Map<string, number[]>(all.map((v) => [v.name, []]));
  const cpu = new Map<string, number[]>(all.map((v) => [v.name, []]));
  for (let round = 1; round <= options.startupRounds; round++) {
    for (const v of all) {
      const [ms, cpuMs] = await preloadClock(v, stackEnv);
      wall.get(v.name)!.push(ms);
      cpu.get(v.name)!.push(cpuMs);
    }
  }
  const of = (map: Map<string, number[]>, name: string) => median(map.get(name)!);
  process.stdout.write(
    `\n### Start-up: the preload from its require to its return (median of ${options.startupRounds} processes each)\n\n` +
      `| variant | wall | process CPU |\n| --- | --- | --- |\n` +
      all
        .map((v) => `| ${v.name} | ${of(wall, v.name).toFixed(0)} ms | ${of(cpu, v.name).toFixed(0)} ms |`)
        .join('\n') +
      '\n',
  );
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  return [
    {
      id: 'START.preload',
      figure: 'Start-up: the preload (the installable package) from its require to ready, wall time',
      ours: of(wall, 'package'),
      unit: 'ms',
      target: 300,
      better: 'lower',
      note:
        `process CPU ${ms(of(cpu, 'package'))}; from source ${ms(of(wall, 'source'))}; ` +
        `zero-code anchor ${ms(of(wall, 'anchor'))} (CPU ${ms(of(cpu, 'anchor'))})` +
        extraNote(options, (name) => of(wall, name), 'ms'),
    },
    {
      id: 'START.anchor',
      figure: 'Start-up: the zero-code anchor from its require to ready, wall time',
      ours: of(wall, 'anchor'),
      unit: 'ms',
      better: 'lower',
    },
  ];
}

/**
 * One process: the app with bench/fixtures/preload-clock.cjs before it, loading the variant's preload; its wall and
 * CPU ms, read from the line the clock prints before the app's first line runs (the app is then stopped).
 */
async function preloadClock(
  v: Variant,
  stackEnv: Record<string, string | undefined>,
): Promise<[number, number]> {
  const child = spawn(process.execPath, ['--require', CLOCK, APP], {
    cwd: REPO_ROOT,
    env: { ...stackEnv, ...v.env, BENCH_PRELOAD: v.preload },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-2000)));
  const pattern = /^PRELOAD_READY ([\d.]+) ([\d.]+)$/m;
  const match = await new Promise<RegExpMatchArray | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out.match(pattern));
      }
    });
    child.once('exit', () => resolve(out.match(pattern)));
  });
  const exited = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGKILL');
  await exited;
  if (!match) throw new Error(`${v.name}: no PRELOAD_READY line (${err.trim()})`);
  return [Number(match[1]), Number(match[2])];
}

const CLOCK = join(REPO_ROOT, 'bench', 'fixtures', 'preload-clock.cjs');

// ---------------------------------------------------------------------------------------------------------------
// heap: after `small` and after `large` requests, a forced GC each time

async function heapGrowth(options: Options, stackEnv: Record<string, string | undefined>): Promise<Figure[]> {
  const run = async (name: string, args: string[]) => {
    const app = await startApp(
      ['--expose-gc', ...args],
      { ...stackEnv, OTEL_SERVICE_NAME: 'bench-memory', BENCH_MEMORY_HOOK: '1' },
      true,
    );
    try {
      const started = performance.now();
      const rate = await load(app.port, options.small, options.connections);
      // Let the batch processors export what is queued, so both samples see an empty queue.
      await sleep(6000);
      const first = await sampleHeap(app);
      await load(app.port, options.large - options.small, options.connections);
      await sleep(6000);
      const second = await sampleHeap(app);
      log(
        `heap ${name}: ${mib(first.heapUsed / MiB)} after ${options.small} requests, ${mib(second.heapUsed / MiB)} ` +
          `after ${options.large} (${rate.toFixed(0)} req/s; ${((performance.now() - started) / 1000).toFixed(0)} s)`,
      );
      return { first: first.heapUsed / MiB, second: second.heapUsed / MiB };
    } finally {
      await app.stop();
    }
  };
  const plain = await run('plain', []);
  const preload = await run('preload', ['--require', './instrumentation']);
  process.stdout.write(
    `\n### Heap after a forced GC (heapUsed), after ${options.small} and ${options.large} requests\n\n` +
      `| variant | after ${options.small} | after ${options.large} | growth |\n| --- | --- | --- | --- |\n` +
      `| plain | ${mib(plain.first)} | ${mib(plain.second)} | ${mib(plain.second - plain.first)} |\n` +
      `| --require ./instrumentation | ${mib(preload.first)} | ${mib(preload.second)} | ${mib(preload.second - preload.first)} |\n`,
  );
  return [
    {
      id: 'MEM.heap.growth',
      figure: `Preload heap growth from ${options.small} to ${options.large} requests (after forced GC)`,
      ours: preload.second - preload.first,
      unit: 'MiB',
      target: 20,
      better: 'lower',
      note: `heap ${mib(preload.first)} → ${mib(preload.second)}; plain app ${mib(plain.second - plain.first)}`,
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// demo: the platform and its stack under the demo's load, the previous design beside the current one

/**
 * The designs measured side by side, each on a fresh stack: the demo before issue 24 (V8's and glibc's defaults, the
 * ETL's four sandboxes kept warm 60 s, the load straight after the start) and the current defaults (demo/warm-up.ts).
 */
const DESIGNS: Record<Design, DemoDesign> = {
  previous: {
    name: 'previous',
    env: {
      OBSERVATORY_DEMO_SEMI_SPACE_MB: '0',
      OBSERVATORY_DEMO_MALLOC_ARENAS: '0',
      OBSERVATORY_DEMO_WORKER_SANDBOXES: '4',
      OBSERVATORY_DEMO_WORKER_IDLE_MS: '60000',
      OBSERVATORY_DEMO_JS_BUILD: 'false',
    },
    warmUp: false,
  },
  // The current defaults but the services run from their TypeScript sources: what the JavaScript build saves.
  sources: { name: 'sources', env: { OBSERVATORY_DEMO_JS_BUILD: 'false' }, warmUp: true },
  ours: { name: 'ours', env: {}, warmUp: true },
};

/** The demo's own Node processes, each held to 150 MiB steady under the load (issue 24). */
const SERVICES = ['gateway', 'catalog', 'downloads', 'users', 'etl-listener'];

function printDemoRuns(runs: Partial<Record<Design, DemoRun>>, options: Options): void {
  const shown = DESIGN_NAMES.filter((d) => runs[d]);
  const components = [...new Set(shown.flatMap((d) => [...runs[d]!.components.keys()]))].sort();
  const cell = (d: Design, c: string) => {
    const x = runs[d]!.components.get(c);
    return x ? `${mib(x.steady)} (PSS ${mib(x.steadyPss)}) / ${mib(x.peak)}` : '—';
  };
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const early = (r: DemoRun) => r.report.early?.byKind.search;
  process.stdout.write(
    `\n### The demo with its stack under its load (${options.rate} req/s for ${options.loadSeconds} s; ` +
      `one sample per second from the platform's start; steady: the median during the load)\n\n` +
      row(['component', ...shown.map((d) => `${d}: steady RSS (PSS) / peak RSS`)]) +
      `\n${row(['---', ...shown.map(() => '---')])}\n` +
      components.map((c) => row([c, ...shown.map((d) => cell(d, c))])).join('\n') +
      `\n${row(['**total at its peak**', ...shown.map((d) => `${mib(runs[d]!.peak.rss)} (PSS ${mib(runs[d]!.peak.pss)})`)])}\n` +
      `${row(['worker sandboxes', ...shown.map((d) => `${runs[d]!.sandboxes.count} seen, each ≤ ${mib(runs[d]!.sandboxes.peak)}`)])}\n` +
      `${row(['search p95 / p99, first 10 s', ...shown.map((d) => (early(runs[d]!) ? `${ms(early(runs[d]!)!.p95)} / ${ms(early(runs[d]!)!.p99)}` : '—'))])}\n` +
      `${row(['search p95 / p99, whole run', ...shown.map((d) => `${ms(runs[d]!.report.byKind.search?.p95)} / ${ms(runs[d]!.report.byKind.search?.p99)}`)])}\n` +
      `${row(['platform CPU per request', ...shown.map((d) => `${runs[d]!.cpuMsPerRequest.toFixed(1)} ms`)])}\n` +
      `${row(['load average at start / end', ...shown.map((d) => runs[d]!.load.map((l) => l.toFixed(1)).join(' / '))])}\n`,
  );
}

const ms = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(0)} ms`);

/** The figures of the current design, the previous one's beside them as the baseline. */
function demoFigures(runs: Partial<Record<Design, DemoRun>>): Figure[] {
  const ours = runs.ours;
  if (!ours) return [];
  const before = runs.previous;
  const baseline = (value: (r: DemoRun) => number | undefined) =>
    before ? { baseline: value(before), baselineName: 'previous design' } : {};
  const loadNote = `load average ${ours.load.map((l) => l.toFixed(1)).join(' → ')}`;
  const figures: Figure[] = [
    {
      id: 'MEM.demo.total',
      figure: 'The demo with its stack under its load: peak of summed RSS',
      ours: ours.peak.rss,
      ...baseline((r) => r.peak.rss),
      unit: 'MiB',
      target: 1024,
      better: 'lower',
      note: `PSS ${mib(ours.peak.pss)}; ${loadNote}`,
    },
    ...[...ours.components].map(([c, x]): Figure => {
      const service = SERVICES.includes(c);
      return {
        id: `MEM.demo.${c.replace(/\W+/g, '-')}`,
        figure: `Demo: ${c} ${service ? 'steady' : 'peak'} RSS${c === 'worker sandbox' ? ' (all sandboxes together)' : ''}`,
        ours: service ? x.steady : x.peak,
        ...baseline((r) => (service ? r.components.get(c)?.steady : r.components.get(c)?.peak)),
        unit: 'MiB',
        ...(service ? { target: 150 } : {}),
        better: 'lower',
        note: service ? `PSS ${mib(x.steadyPss)}, peak ${mib(x.peak)}` : undefined,
      };
    }),
    // What the JavaScript build saves alone: the same settings, the services run from their TypeScript sources.
    ...SERVICES.flatMap((c): Figure[] => {
      const built = ours.components.get(c);
      const sources = runs.sources?.components.get(c);
      if (!built || !sources) return [];
      return [
        {
          id: `MEM.demo.js-build.${c}`,
          figure: `Demo: ${c} steady RSS, built JavaScript against its TypeScript sources`,
          ours: built.steady,
          baseline: sources.steady,
          baselineName: 'the sources, same settings',
          unit: 'MiB',
          better: 'lower',
          note: `PSS ${mib(built.steadyPss)} against ${mib(sources.steadyPss)}`,
        },
      ];
    }),
    ...latencyFigures(ours, before),
    {
      id: 'CPU.demo.request',
      figure: "Demo: the platform's CPU time per request of the load (services, listener, sandboxes)",
      ours: ours.cpuMsPerRequest,
      ...baseline((r) => r.cpuMsPerRequest),
      unit: 'ms',
      better: 'lower',
    },
  ];
  if (ours.sandboxes.count === 0) {
    figures.push(failedFigure('MEM.worker', 'Worker sandbox RSS', 'no worker sandbox ran during the load'));
  } else {
    figures.push({
      id: 'MEM.worker.peak',
      figure: 'Worker sandbox peak RSS during a job (VmHWM)',
      ours: ours.sandboxes.peak,
      ...baseline((r) => r.sandboxes.peak),
      unit: 'MiB',
      target: 110,
      better: 'lower',
      note: `${ours.sandboxes.count} sandboxes; steady ${mib(ours.sandboxes.steady)}`,
    });
  }
  return figures;
}

/** The whole `observatory demo`, its CLI included: each component at the peak, and the peak against 1 GiB. */
function cliFigures(run: DemoCliRun): Figure[] {
  const rows = [...run.atPeak].sort((a, b) => b[1].pss - a[1].pss);
  process.stdout.write(
    `\n### The whole \`observatory demo --duration N\` (${run.seconds.toFixed(0)} s, its CLI included), at its peak of summed PSS\n\n` +
      `| process | RSS | PSS |\n| --- | --- | --- |\n` +
      rows.map(([name, x]) => `| ${name} | ${mib(x.rss)} | ${mib(x.pss)} |`).join('\n') +
      `\n| **total** | ${mib(run.peak.rss)} | ${mib(run.peak.pss)} |\n`,
  );
  return [
    {
      id: 'MEM.demo.cli.pss',
      figure:
        'The whole `npm run demo` with its stack (its CLI, console, lake query and compaction included): peak of summed PSS',
      ours: run.peak.pss,
      unit: 'MiB',
      target: 1024,
      better: 'lower',
      note: `summed RSS then ${mib(run.peak.rss)}, at most ${mib(run.peakRss)}: RSS counts the ≈ 57 MiB of the node binary once per Node process`,
    },
  ];
}

/** Search latency of the demo's load, its first ten seconds and the whole run (targets p95 150 ms, p99 300 ms). */
function latencyFigures(ours: DemoRun, before: DemoRun | undefined): Figure[] {
  const windows = [
    { id: 'first10s', words: 'first 10 s', of: (r: DemoRun) => r.report.early?.byKind.search },
    { id: 'run', words: 'whole run', of: (r: DemoRun) => r.report.byKind.search },
  ];
  return windows.flatMap((w) =>
    (['p95', 'p99'] as const).map((p): Figure => {
      const value = w.of(ours)?.[p];
      if (value === undefined)
        return failedFigure(
          `LAT.demo.search.${w.id}.${p}`,
          `Demo search ${p}, ${w.words}`,
          w.id === 'first10s' && !ours.report.early
            ? 'the load ran no longer than 10 s'
            : 'no search answered',
        );
      const old = before ? w.of(before)?.[p] : undefined;
      return {
        id: `LAT.demo.search.${w.id}.${p}`,
        figure: `Demo: search ${p} at the demo's rate, ${w.words}`,
        ours: value,
        ...(old === undefined ? {} : { baseline: old, baselineName: 'previous design' }),
        unit: 'ms',
        target: p === 'p95' ? 150 : 300,
        better: 'lower',
        note: `load average ${ours.load.map((l) => l.toFixed(1)).join(' → ')}`,
      };
    }),
  );
}

/**
 * Sends one span (`bench-memory` start) to the bench stack's Collector and checks it is accepted: the parts'
 * telemetry has somewhere to go before they start.
 */
async function markStart(otlpHttpPort: number): Promise<void> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const response = await fetch(`http://127.0.0.1:${otlpHttpPort}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench-memory' } }] },
          scopeSpans: [
            {
              scope: { name: 'bench/memory.ts' },
              spans: [
                {
                  traceId: randomBytes(16).toString('hex'),
                  spanId: randomBytes(8).toString('hex'),
                  name: 'bench-memory start',
                  kind: 1,
                  startTimeUnixNano: String(now),
                  endTimeUnixNano: String(now + 1_000_000n),
                },
              ],
            },
          ],
        },
      ],
    }),
  });
  if (!response.ok) throw new Error(`the bench Collector refused the start span: ${response.status}`);
}

/** `--preload <label>=<path>`: a label of its own (not one of ours) and a path from the repository root. */
function preloadOption(spec: string): { label: string; path: string } {
  const at = spec.indexOf('=');
  const label = spec.slice(0, at);
  const path = spec.slice(at + 1);
  if (at < 1 || !path) throw new Error(`--preload ${spec}: expected <label>=<path to a preload>`);
  if (['plain', 'source', 'package', 'anchor'].includes(label))
    throw new Error(`--preload ${spec}: the label ${label} is taken; choose another`);
  return { label, path };
}

function parse(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      parts: { type: 'string', default: PARTS.join(',') },
      rounds: { type: 'string', default: '3' },
      idle: { type: 'string', default: '5' },
      'startup-rounds': { type: 'string', default: '7' },
      preload: { type: 'string', multiple: true, default: [] },
      small: { type: 'string', default: '10000' },
      large: { type: 'string', default: '1000000' },
      connections: { type: 'string', default: '16' },
      'load-seconds': { type: 'string', default: '30' },
      rate: { type: 'string', default: '20' },
      base: { type: 'string', default: '26400' },
      designs: { type: 'string', default: DESIGN_NAMES.join(',') },
    },
  });
  const whole = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name}: expected a whole number ≥ ${min}, got ${text}`);
    return n;
  };
  const parts = values.parts.split(',') as Part[];
  const designs = values.designs.split(',') as Design[];
  for (const design of designs)
    if (!DESIGN_NAMES.includes(design))
      throw new Error(`--designs: unknown design "${design}"; expected ${DESIGN_NAMES.join(',')}`);
  for (const part of parts)
    if (!PARTS.includes(part))
      throw new Error(`--parts: unknown part "${part}"; expected ${PARTS.join(',')}`);
  const options: Options = {
    parts,
    rounds: whole('rounds', values.rounds, 1),
    idleSeconds: whole('idle', values.idle, 0),
    startupRounds: whole('startup-rounds', values['startup-rounds'], 1),
    preloads: values.preload.map(preloadOption),
    small: whole('small', values.small, 1),
    large: whole('large', values.large, 2),
    connections: whole('connections', values.connections, 1),
    loadSeconds: whole('load-seconds', values['load-seconds'], 1),
    rate: Number(values.rate),
    base: whole('base', values.base, 1024),
    designs,
  };
  if (options.large <= options.small) throw new Error('--large must be more than --small');
  if (!(options.rate > 0)) throw new Error(`--rate: expected requests per second > 0, got ${values.rate}`);
  return options;
}

/**
 * Runs one part (or one demo design) on a fresh stack of its own: the heap part sends a million spans, and the demo
 * part measured on the same stack found a Jaeger store grown by them (3 GiB instead of ≈ 0.1). A part that throws is
 * a failed row; the other parts still run. So is a part during which a stack component stopped: its telemetry went
 * nowhere, so its figures are not what they claim (the state folder is kept for the logs).
 */
async function onFreshStack(
  name: string,
  base: number,
  run: (bench: IsolatedStack) => Promise<Figure[]>,
  only?: ComponentName[],
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const bench = await startIsolatedStack(`bench-memory-${name}`, base, {
    say: (line) => log(`stack: ${line}`),
    only,
  });
  let keep = false;
  try {
    await markStart(bench.stack.config.collector.otlpHttp);
    figures.push(...(await run(bench)));
  } catch (error) {
    log(`${name} failed: ${(error as Error).stack ?? String(error)}`);
    figures.push(failedFigure(`MEM.${name}`, `Memory: ${name}`, error));
  }
  try {
    const stopped = (await bench.stack.status()).components
      .filter((c) => !c.healthy && (!only || only.includes(c.name)))
      .map((c) => c.name);
    if (stopped.length) {
      keep = true;
      const why = `${stopped.join(', ')} not running at its end; logs in ${join(bench.stateDir, 'logs')}`;
      log(`${name}: ${why}`);
      figures.push(failedFigure(`MEM.${name}.stack`, `Memory: the bench stack during ${name}`, why));
    }
  } finally {
    await bench.down(keep);
  }
  return figures;
}

/** The command line (`npm run bench -- memory [options]` or `node bench/memory.ts`); returns the figures. */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const options = parse(argv);
  const figures: Figure[] = [];
  const attempt = async (part: Part, run: (bench: IsolatedStack) => Promise<Figure[]>) => {
    if (options.parts.includes(part)) figures.push(...(await onFreshStack(part, options.base, run)));
  };
  if (options.parts.includes('idle') || options.parts.includes('startup')) buildPackage();
  await attempt('idle', (bench) => idleRss(options, bench.env));
  // No stack: a preload's start connects to nothing (its exporters send on their schedule, after start).
  if (options.parts.includes('startup')) {
    try {
      figures.push(...(await startupTimes(options, process.env)));
    } catch (error) {
      log(`startup failed: ${(error as Error).stack ?? String(error)}`);
      figures.push(failedFigure('START', 'Start-up', error));
    }
  }
  await attempt('heap', (bench) => heapGrowth(options, bench.env));
  if (options.parts.includes('cli')) {
    figures.push(
      ...(await onFreshStack(
        'cli',
        options.base,
        async (bench) =>
          cliFigures(
            await measureDemoCli(bench, {
              base: options.base,
              seconds: options.loadSeconds,
              rate: options.rate,
            }),
          ),
        demoComponents(etlConfig().dispatch),
      )),
    );
  }
  if (options.parts.includes('demo')) {
    const runs: Partial<Record<Design, DemoRun>> = {};
    for (const design of options.designs) {
      figures.push(
        ...(await onFreshStack(
          `demo-${design}`,
          options.base,
          async (bench) => {
            runs[design] = await measureDemo(bench, DESIGNS[design], {
              rate: options.rate,
              seconds: options.loadSeconds,
            });
            return [];
          },
          design === 'previous' ? undefined : demoComponents(etlConfig().dispatch),
        )),
      );
    }
    printDemoRuns(runs, options);
    figures.push(...demoFigures(runs));
  }
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
