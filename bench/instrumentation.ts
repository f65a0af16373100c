/**
 * What the preload costs a request (issue 17, P1), measured side by side in one run, rounds interleaved so machine
 * noise hits every variant alike. Needs the local stack (started if down): telemetry is really exported and the
 * Collector's work is part of the cost.
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
 *                                    [--preload <label>=<path>]…
 *
 * `--preload` adds a variant to P1a: another preload (e.g. an earlier commit's `instrumentation/`, checked out with
 * `git worktree add`) measured in the same rounds, so a change is compared before and after side by side.
 */
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startPlatform, type Platform } from '../cli/demo/platform.ts';
import { Stack } from '../cli/stack/stack.ts';
import { appUrl, startApp } from './lib/fixture-app.ts';
import { cpuMs, stackPids } from './lib/proc.ts';
import { printFigures, type Figure } from './report.ts';

interface Options {
  seconds: number;
  rounds: number;
  connections: number;
  warmup: number;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  /** CPU (user + system) per request, in µs, of the app and of the Collector. */
  appCpuUs: number;
  collectorCpuUs: number;
  /** CPU per request of the rest of the stack (Jaeger, the S3 store, Prometheus, the SQS server), in µs. */
  backendsCpuUs: number;
}

/** A process's user + system CPU time so far, in µs (0 when there is none). */
const cpuMicros = (pid: number | undefined): number => (pid ? cpuMs(pid) * 1000 : 0);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs autocannon against `url` and returns what it measured, CPU per request of the pids included. */
async function load(
  url: string,
  options: { connections: number; seconds: number; rate?: number },
  pids: { app?: number[]; collector?: number; backends?: number[] },
): Promise<Sample> {
  const before = {
    app: (pids.app ?? []).reduce((sum, pid) => sum + cpuMicros(pid), 0),
    collector: cpuMicros(pids.collector),
    backends: (pids.backends ?? []).reduce((sum, pid) => sum + cpuMicros(pid), 0),
  };
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
  const appCpu = (pids.app ?? []).reduce((sum, pid) => sum + cpuMicros(pid), 0) - before.app;
  const collectorCpu = cpuMicros(pids.collector) - before.collector;
  const backendsCpu = (pids.backends ?? []).reduce((sum, pid) => sum + cpuMicros(pid), 0) - before.backends;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    appCpuUs: appCpu / result.requests.total,
    collectorCpuUs: collectorCpu / result.requests.total,
    backendsCpuUs: backendsCpu / result.requests.total,
  };
}

/** The stack's pids: the Collector's, and the other components'. */
async function collectorAndBackends(): Promise<{ collector?: number; backends: number[] }> {
  const { collector, ...others } = await stackPids();
  return { collector, backends: Object.values(others) };
}

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

async function p1aRound(
  variant: P1aVariant,
  options: Options,
  collector: number | undefined,
): Promise<Sample> {
  const { child, port } = await startApp(
    variant.args,
    { ...process.env, OTEL_SERVICE_NAME: 'bench-app' },
    false,
  );
  try {
    const url = appUrl(port);
    // The warm-up takes the start-up's tail (JIT, lazily loaded code, first major GCs) off the measured requests.
    await autocannon({ url, connections: options.connections, duration: options.warmup });
    return await load(url, options, { app: [child.pid!], collector });
  } finally {
    child.kill('SIGKILL');
  }
}

async function p1a(options: Options, collector: number | undefined, extra: P1aVariant[]): Promise<Figure[]> {
  const variants = [...P1A_VARIANTS, ...extra];
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  for (let round = 1; round <= options.rounds; round++) {
    for (const variant of variants) {
      const sample = await p1aRound(variant, options, collector);
      samples.get(variant.name)!.push(sample);
      process.stderr.write(
        `P1a round ${round}/${options.rounds} ${variant.name}: ${sample.rps.toFixed(0)} req/s, p99 ${sample.p99} ms, ` +
          `app ${sample.appCpuUs.toFixed(0)} µs/request, Collector ${sample.collectorCpuUs.toFixed(0)} µs/request\n`,
      );
    }
  }
  const of = (name: string, key: keyof Sample) => median(samples.get(name)!.map((s) => s[key]));
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
    note: `app ${of(variant.name, 'appCpuUs').toFixed(0)} µs/request, Collector ${of(variant.name, 'collectorCpuUs').toFixed(0)} µs/request`,
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
      ours: of('preload', 'appCpuUs'),
      baseline: of(base, 'appCpuUs'),
      baselineName: base,
      unit: 'µs',
      better: 'lower',
      note: `anchor ${of('zero-code anchor', 'appCpuUs').toFixed(0)} µs`,
    },
    {
      id: 'P1a.collector-cpu',
      figure: 'P1a Collector CPU per request (its span, metrics share)',
      ours: of('preload', 'collectorCpuUs'),
      unit: 'µs',
      better: 'lower',
      note: `anchor ${of('zero-code anchor', 'collectorCpuUs').toFixed(0)} µs`,
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------- P1b

const SEARCH = '/api/scenes?bbox=2,48,3,49&from=2026-06-01&to=2026-06-03&limit=5';

async function p1b(
  options: Options,
  stackPid: { collector?: number; backends: number[] },
): Promise<Figure[]> {
  // Both platforms run at once on free ports; the one not under load idles. N+1 off, as the issue measures it.
  const started: Record<string, { platform: Platform; pids: number[] }> = {};
  const env = { OBSERVATORY_DEMO_N_PLUS_ONE: 'false' };
  try {
    for (const [name, extra] of [
      ['uninstrumented', { OTEL_SDK_DISABLED: 'true' }],
      ['preload', {}],
    ] as const) {
      const platform = await startPlatform({ freePorts: true, env: { ...env, ...extra } });
      started[name] = { platform, pids: platform.pids };
    }
    const url = (name: string) => `${started[name]!.platform.urls.gateway}${SEARCH}`;
    for (const name of Object.keys(started))
      await autocannon({ url: url(name), connections: options.connections, duration: options.warmup });
    const max = new Map<string, Sample[]>(Object.keys(started).map((name) => [name, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const name of Object.keys(started)) {
        const sample = await load(url(name), options, { app: started[name]!.pids, ...stackPid });
        max.get(name)!.push(sample);
        process.stderr.write(
          `P1b round ${round}/${options.rounds} ${name}: ${sample.rps.toFixed(0)} req/s, p99 ${sample.p99} ms, ` +
            `services ${sample.appCpuUs.toFixed(0)} µs/request, Collector ${sample.collectorCpuUs.toFixed(0)} µs, ` +
            `Jaeger + S3 + Prometheus + SQS ${sample.backendsCpuUs.toFixed(0)} µs\n`,
        );
      }
    }
    const rps = (name: string) => median(max.get(name)!.map((s) => s.rps));
    const cpu = (name: string, key: 'appCpuUs' | 'collectorCpuUs' | 'backendsCpuUs') =>
      median(max.get(name)!.map((s) => s[key]));
    // Latency at half of the uninstrumented maximum, the same fixed rate for both.
    const rate = Math.max(1, Math.round(rps('uninstrumented') / 2));
    const half = new Map<string, Sample[]>(Object.keys(started).map((name) => [name, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const name of Object.keys(started)) {
        const sample = await load(url(name), { ...options, rate }, {});
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
          `CPU per search: services ${cpu('preload', 'appCpuUs').toFixed(0)} µs vs ${cpu(base, 'appCpuUs').toFixed(0)}, ` +
          `Collector ${cpu('preload', 'collectorCpuUs').toFixed(0)} µs, other backends ${cpu('preload', 'backendsCpuUs').toFixed(0)} µs vs ${cpu(base, 'backendsCpuUs').toFixed(0)}`,
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
  const stack = new Stack({ say: () => {} });
  if (!(await stack.up()).healthy) throw new Error('the local stack is not healthy');
  const pids = await collectorAndBackends();
  const only = values.only.split(',');
  const figures = [
    ...(only.includes('p1a') ? await p1a(options, pids.collector, extra) : []),
    ...(only.includes('p1b') ? await p1b(options, pids) : []),
  ];
  process.stdout.write(
    `\n${options.rounds} interleaved rounds of ${options.seconds} s after ${options.warmup} s of warm-up, ` +
      `${options.connections} connections, Node ${process.version}\n`,
  );
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
