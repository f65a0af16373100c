/**
 * What the preload costs a request (issue 17, P1), measured side by side in one run, rounds interleaved so machine
 * noise hits every variant alike, on stacks of the bench's own (fresh state, ports 26600+): telemetry is really
 * exported and the Collector's and backends' work is part of the cost, but not a store grown by earlier runs. Jaeger's
 * Badger store compacts in the background after taking many spans (most of a core, for minutes, after P1a's
 * ≈ 100 000 spans a round) and that would land on whichever variant runs next: every P1a sample gets a fresh stack,
 * P1b a stack of its own, and each P1b sample starts once the stack is at rest.
 *
 * P1a: a plain Express JSON route (bench/fixtures/app.cjs) uninstrumented, under `--require ./instrumentation`
 * (every request traced and exported, metrics and logs on) and under the zero-code anchor
 * (`--require @opentelemetry/auto-instrumentations-node/register`): throughput, p99, the app's CPU per request and
 * the Collector's CPU per request.
 *
 * P1b: the demo's gateway search route (N+1 off, limit 5) with every service of the platform under the preload,
 * against the same platform with `OTEL_SDK_DISABLED=true`: the highest throughput, then p50 and p99 of both at half
 * of the uninstrumented maximum rate.
 *
 *   npm run bench -- instrumentation [--only p1a,p1b] [--seconds 8] [--rounds 3] [--connections 16] [--warmup 5]
 *                                    [--preload <label>=<path>]… [--base 26600]
 *
 * `--preload` adds a variant to P1a: another preload (e.g. an earlier commit's `instrumentation/`, checked out with
 * `git worktree add`) measured in the same rounds, so a change is compared before and after side by side.
 */
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startPlatform, type Platform } from '../demo/platform.ts';
import { sleep } from '../common/poll.ts';
import { startIsolatedStack, type IsolatedStack } from '../stack/isolated-stack.ts';
import { appUrl, startApp } from './lib/fixture-app.ts';
import { cpuMs, machineCpuMs, stackPids } from './lib/proc.ts';
import { printFigures, type Figure } from './report.ts';

interface Options {
  seconds: number;
  rounds: number;
  connections: number;
  warmup: number;
}

/** Where the CPU of a request went, in µs per request (user + system, from /proc). */
interface CpuPerRequest {
  /** The app (P1a) or every service of the platform (P1b). */
  app: number;
  collector: number;
  /** Jaeger storing the spans (its Badger store indexes every tag of every span). */
  jaeger: number;
  /** The S3 store, Prometheus and the SQS server. */
  others: number;
  /** The whole machine, the load client included. */
  machine: number;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  cpu: CpuPerRequest;
}

/** The processes whose CPU a sample reads: the app's, and the stack's by component (stackPids). */
interface Measured {
  app: number[];
  stack: Record<string, number>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU so far, in ms, of each group of processes and of the machine. */
function cpuNow(pids: Measured): CpuPerRequest {
  const sum = (list: (number | undefined)[]) =>
    list.reduce<number>((total, pid) => total + (pid ? cpuMs(pid) : 0), 0);
  const { collector, jaeger, ...others } = pids.stack;
  return {
    app: sum(pids.app),
    collector: sum([collector]),
    jaeger: sum([jaeger]),
    others: sum(Object.values(others)),
    machine: machineCpuMs().busy,
  };
}

/** Runs autocannon against `url` and returns what it measured, with the CPU per request of each group. */
async function load(
  url: string,
  options: { connections: number; seconds: number; rate?: number },
  pids: Measured,
): Promise<Sample> {
  const before = cpuNow(pids);
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.seconds,
    ...(options.rate ? { overallRate: options.rate } : {}),
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0)
    throw new Error(
      `${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts under load`,
    );
  const after = cpuNow(pids);
  const perRequest = (key: keyof CpuPerRequest) =>
    ((after[key] - before[key]) * 1000) / result.requests.total;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpu: {
      app: perRequest('app'),
      collector: perRequest('collector'),
      jaeger: perRequest('jaeger'),
      others: perRequest('others'),
      machine: perRequest('machine'),
    },
  };
}

/**
 * Waits until the stack's processes together use less than a tenth of a core over a second (Jaeger's compactions
 * done), at most `limitMs`; says so when they never settle.
 */
async function atRest(stack: Record<string, number>, limitMs = 90_000): Promise<void> {
  const pids = Object.values(stack);
  const total = () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const start = Date.now();
  for (let before = total(); Date.now() - start < limitMs;) {
    await sleep(1000);
    const now = total();
    if (now - before < 100) return;
    before = now;
  }
  process.stderr.write(`the stack did not come to rest in ${limitMs / 1000} s; measuring anyway\n`);
}

/**
 * The highest ratio this machine allows whatever the preload costs: the uninstrumented machine CPU per request
 * against the same plus what the Collector, Jaeger and the other backends add under the preload (a preload costing
 * nothing would still have its telemetry exported, stored and indexed on the same cores).
 */
function ceiling(cpu: (name: string, key: keyof CpuPerRequest) => number, base: string): number {
  const added = (['collector', 'jaeger', 'others'] as const).reduce(
    (sum, key) => sum + Math.max(0, cpu('preload', key) - cpu(base, key)),
    0,
  );
  return cpu(base, 'machine') / (cpu(base, 'machine') + added);
}

/** One line of where a request's CPU went. */
const cpuLine = (cpu: CpuPerRequest, app = 'app') =>
  `${app} ${cpu.app.toFixed(0)} µs/request, Collector ${cpu.collector.toFixed(0)}, Jaeger ${cpu.jaeger.toFixed(0)}, ` +
  `S3 + Prometheus + SQS ${cpu.others.toFixed(0)}, machine ${cpu.machine.toFixed(0)}`;

// ---------------------------------------------------------------------------------------------------------- P1a

const P1A_VARIANTS = [
  { name: 'uninstrumented', args: [] as string[] },
  { name: 'preload', args: ['--require', './instrumentation'] },
  { name: 'zero-code anchor', args: ['--require', '@opentelemetry/auto-instrumentations-node/register'] },
];

interface P1aVariant {
  name: string;
  args: string[];
}

async function p1aRound(variant: P1aVariant, options: Options, basePort: number): Promise<Sample> {
  const bench = await startIsolatedStack('bench-instrumentation', basePort);
  try {
    const stack = await stackPids(bench.stack);
    const { child, port } = await startApp(
      variant.args,
      { ...bench.env, OTEL_SERVICE_NAME: 'bench-app' },
      false,
    );
    try {
      const url = appUrl(port);
      // The warm-up takes the start-up's tail (JIT, lazily loaded code, first major GCs) off the measured requests.
      await autocannon({ url, connections: options.connections, duration: options.warmup });
      return await load(url, options, { app: [child.pid!], stack });
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    await bench.down();
  }
}

async function p1a(options: Options, basePort: number, extra: P1aVariant[]): Promise<Figure[]> {
  const variants = [...P1A_VARIANTS, ...extra];
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  for (let round = 1; round <= options.rounds; round++) {
    for (const variant of variants) {
      const sample = await p1aRound(variant, options, basePort);
      samples.get(variant.name)!.push(sample);
      process.stderr.write(
        `P1a round ${round}/${options.rounds} ${variant.name}: ${sample.rps.toFixed(0)} req/s, p99 ${sample.p99} ms, ` +
          `${cpuLine(sample.cpu)}\n`,
      );
    }
  }
  const of = (name: string, key: 'rps' | 'p99') => median(samples.get(name)!.map((s) => s[key]));
  const cpu = (name: string, key: keyof CpuPerRequest) => median(samples.get(name)!.map((s) => s.cpu[key]));
  const base = 'uninstrumented';
  const anchorRatio = of('zero-code anchor', 'rps') / of(base, 'rps');
  const extraFigures: Figure[] = extra.map((variant) => ({
    id: `P1a.${variant.name}`,
    figure: `P1a plain Express route, throughput under ${variant.name}`,
    ours: of(variant.name, 'rps'),
    baseline: of(base, 'rps'),
    baselineName: base,
    unit: 'req/s',
    better: 'higher',
    note: `app ${cpu(variant.name, 'app').toFixed(0)} µs/request, Collector ${cpu(variant.name, 'collector').toFixed(0)} µs/request`,
  }));
  return [
    ...extraFigures,
    {
      id: 'P1a',
      figure: 'P1a plain Express route, throughput under the preload',
      ours: of('preload', 'rps'),
      baseline: of(base, 'rps'),
      baselineName: base,
      unit: 'req/s',
      target: 0.5,
      targetIsRatio: true,
      better: 'higher',
      note: `zero-code anchor ${of('zero-code anchor', 'rps').toFixed(0)} req/s, ${anchorRatio.toFixed(2)}×`,
    },
    {
      id: 'P1a.ceiling',
      figure:
        'P1a highest ratio on this machine with a preload that cost nothing (the backends on the same cores: ' +
        'machine CPU per request uninstrumented ÷ that plus what the Collector, Jaeger and the others add)',
      ours: ceiling(cpu, base),
      unit: '×',
      better: 'higher',
    },
    {
      id: 'P1a.anchor',
      figure: 'P1a plain Express route, throughput under the zero-code anchor',
      ours: of('zero-code anchor', 'rps'),
      baseline: of(base, 'rps'),
      baselineName: base,
      unit: 'req/s',
      better: 'higher',
    },
    {
      id: 'P1a.p99',
      figure: 'P1a plain Express route, p99 at full load under the preload',
      ours: of('preload', 'p99'),
      baseline: of(base, 'p99'),
      baselineName: base,
      unit: 'ms',
      better: 'lower',
    },
    {
      id: 'P1a.app-cpu',
      figure: 'P1a app CPU per request under the preload',
      ours: cpu('preload', 'app'),
      baseline: cpu(base, 'app'),
      baselineName: base,
      unit: 'µs',
      better: 'lower',
      note: `anchor ${cpu('zero-code anchor', 'app').toFixed(0)} µs`,
    },
    {
      id: 'P1a.collector-cpu',
      figure: 'P1a Collector CPU per request (its span, metrics share)',
      ours: cpu('preload', 'collector'),
      unit: 'µs',
      better: 'lower',
      note: `anchor ${cpu('zero-code anchor', 'collector').toFixed(0)} µs`,
    },
    {
      id: 'P1a.jaeger-cpu',
      figure: 'P1a Jaeger CPU per request (storing its span in Badger)',
      ours: cpu('preload', 'jaeger'),
      unit: 'µs',
      better: 'lower',
      note: `anchor ${cpu('zero-code anchor', 'jaeger').toFixed(0)} µs`,
    },
    {
      id: 'P1a.machine-cpu',
      figure: 'P1a whole machine CPU per request (app, load client, stack)',
      ours: cpu('preload', 'machine'),
      baseline: cpu(base, 'machine'),
      baselineName: base,
      unit: 'µs',
      better: 'lower',
      note: `anchor ${cpu('zero-code anchor', 'machine').toFixed(0)} µs`,
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------- P1b

const SEARCH = '/api/scenes?bbox=2,48,3,49&from=2026-06-01&to=2026-06-03&limit=5';

async function p1b(options: Options, bench: IsolatedStack): Promise<Figure[]> {
  const stack = await stackPids(bench.stack);
  // Both platforms run at once on free ports; the one not under load idles. N+1 off, as the issue measures it.
  const started: Record<string, { platform: Platform; pids: number[] }> = {};
  const env = { OBSERVATORY_DEMO_N_PLUS_ONE: 'false' };
  try {
    for (const [name, extra] of [
      ['uninstrumented', { OTEL_SDK_DISABLED: 'true' }],
      ['preload', {}],
    ] as const) {
      const platform = await startPlatform({
        freePorts: true,
        env: { ...bench.overrides, ...env, ...extra },
      });
      started[name] = { platform, pids: platform.pids };
    }
    const url = (name: string) => `${started[name]!.platform.urls.gateway}${SEARCH}`;
    for (const name of Object.keys(started))
      await autocannon({ url: url(name), connections: options.connections, duration: options.warmup });
    const max = new Map<string, Sample[]>(Object.keys(started).map((name) => [name, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const name of Object.keys(started)) {
        await atRest(stack);
        const sample = await load(url(name), options, { app: started[name]!.pids, stack });
        max.get(name)!.push(sample);
        process.stderr.write(
          `P1b round ${round}/${options.rounds} ${name}: ${sample.rps.toFixed(0)} req/s, p99 ${sample.p99} ms, ` +
            `${cpuLine(sample.cpu, 'services')}\n`,
        );
      }
    }
    const rps = (name: string) => median(max.get(name)!.map((s) => s.rps));
    const cpu = (name: string, key: keyof CpuPerRequest) => median(max.get(name)!.map((s) => s.cpu[key]));
    // Latency at half of the uninstrumented maximum, the same fixed rate for both.
    const rate = Math.max(1, Math.round(rps('uninstrumented') / 2));
    const half = new Map<string, Sample[]>(Object.keys(started).map((name) => [name, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const name of Object.keys(started)) {
        await atRest(stack);
        const sample = await load(url(name), { ...options, rate }, { app: [], stack: {} });
        half.get(name)!.push(sample);
        process.stderr.write(
          `P1b at ${rate} req/s, round ${round}/${options.rounds} ${name}: p50 ${sample.p50} ms, p99 ${sample.p99} ms\n`,
        );
      }
    }
    const at = (name: string, key: 'p50' | 'p99') => median(half.get(name)!.map((s) => s[key]));
    const base = 'uninstrumented';
    return [
      {
        id: 'P1b',
        figure: 'P1b gateway search, throughput with every service under the preload',
        ours: rps('preload'),
        baseline: rps(base),
        baselineName: 'OTEL_SDK_DISABLED=true',
        unit: 'req/s',
        target: 0.8,
        targetIsRatio: true,
        better: 'higher',
        note:
          `CPU per search: services ${cpu('preload', 'app').toFixed(0)} µs vs ${cpu(base, 'app').toFixed(0)}, ` +
          `Collector ${cpu('preload', 'collector').toFixed(0)} vs ${cpu(base, 'collector').toFixed(0)}, ` +
          `Jaeger ${cpu('preload', 'jaeger').toFixed(0)} vs ${cpu(base, 'jaeger').toFixed(0)}, ` +
          `S3 + Prometheus + SQS ${cpu('preload', 'others').toFixed(0)} vs ${cpu(base, 'others').toFixed(0)}, ` +
          `machine ${cpu('preload', 'machine').toFixed(0)} vs ${cpu(base, 'machine').toFixed(0)}`,
      },
      {
        id: 'P1b.ceiling',
        figure: 'P1b highest ratio on this machine with a preload that cost nothing (as for P1a)',
        ours: ceiling(cpu, base),
        unit: '×',
        better: 'higher',
      },
      {
        id: 'P1b.p99',
        figure: `P1b gateway search, p99 at half the uninstrumented maximum (${rate} req/s)`,
        ours: at('preload', 'p99'),
        baseline: at(base, 'p99'),
        baselineName: 'OTEL_SDK_DISABLED=true',
        unit: 'ms',
        target: 1.25,
        targetIsRatio: true,
        better: 'lower',
      },
      {
        id: 'P1b.p50',
        figure: `P1b gateway search, p50 at ${rate} req/s (target: uninstrumented + 1 ms)`,
        ours: at('preload', 'p50'),
        baseline: at(base, 'p50'),
        baselineName: 'OTEL_SDK_DISABLED=true',
        unit: 'ms',
        target: at(base, 'p50') + 1,
        better: 'lower',
      },
    ];
  } finally {
    await Promise.all(Object.values(started).map(({ platform }) => platform.stop()));
  }
}

/** The command line (`npm run bench -- instrumentation` or `node bench/instrumentation.ts`). */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', default: 'p1a,p1b' },
      seconds: { type: 'string', default: '8' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '16' },
      warmup: { type: 'string', default: '5' },
      preload: { type: 'string', multiple: true, default: [] },
      base: { type: 'string', default: '26600' },
    },
  });
  const extra = values.preload.map((spec) => {
    const [label, path] = spec.split('=');
    if (!label || !path) throw new Error(`--preload ${spec}: expected <label>=<path to a preload>`);
    return { name: label, args: ['--require', path] };
  });
  const options: Options = {
    seconds: Number(values.seconds),
    rounds: Number(values.rounds),
    connections: Number(values.connections),
    warmup: Number(values.warmup),
  };
  const base = Number(values.base);
  const only = values.only.split(',');
  const figures: Figure[] = only.includes('p1a') ? await p1a(options, base, extra) : [];
  if (only.includes('p1b')) {
    const bench = await startIsolatedStack('bench-instrumentation', base);
    try {
      figures.push(...(await p1b(options, bench)));
    } finally {
      await bench.down();
    }
  }
  process.stdout.write(
    `\n${options.rounds} interleaved rounds of ${options.seconds} s after ${options.warmup} s of warm-up, ` +
      `${options.connections} connections, Node ${process.version}\n`,
  );
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
