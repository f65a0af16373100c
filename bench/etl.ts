/**
 * What the local serverless ETL costs, with the real crop-statistics handler against the running stack (S3 store and
 * Collector): chunk throughput per fleet size, the dispatch overhead of one invocation (cold and warm) against a
 * plain in-process call, and what flushing telemetry before the acknowledgement adds to each invocation. Variants
 * are measured side by side in one run, rounds interleaved (the order rotates each round), so machine noise hits
 * every variant alike; tables give medians. Beside the throughput, the CPU time every process spent per chunk (the
 * sandboxes, each stack component, this process as the dispatcher; bench/lib/etl-processes.ts) says what saturates,
 * and the sandboxes' RSS gives P5.sandbox-rss. Needs the stack up (`npx observatory stack up`).
 *
 *   npm run bench -- etl [--chunks 64] [--rounds 5] [--warm 30] [--sizes 1,2,4,8] [--only throughput|invocations]
 *
 * Figures for the bench table: P5 fleet — chunks/s of each fleet size against the first (target ≥ 1.6× for 2 on 1).
 *
 * The fleet only runs the functions registered in etl/handlers/index.ts, so the trivial invocation is the real
 * worker given a chunk with a `throw` fault: runInvocation's span, the rejected `before` hook and the flush run, the
 * handler does not. Sandboxes report to the Collector as `bench-etl-worker`; the crop-statistics rows land under
 * curated/crop_stats/job_id=bench-etl-…/ (the handler fixes the key) and its `tile_processed` events reach the lake.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { etlConfig, type EtlConfig } from '../etl/config.ts';
import { handler as cropStats, type CropStatsPayload } from '../etl/handlers/crop-stats.ts';
import { Fleet } from '../etl/runtime/fleet.ts';
import { runInvocation } from '../etl/runtime/invocation.ts';
import type { ChunkEvent, Handler, InvocationResult, LambdaContext } from '../etl/types.ts';
import { demoConfig } from '../services/config.ts';
import { days, seed, tiles } from '../imagery/scenes.ts';
import { S3Store } from '../common/s3-store.ts';
import {
  addWindows,
  cpuTable,
  cpuWindow,
  fleetFigures,
  rssMiB,
  type CpuWindow,
} from './lib/etl-processes.ts';
import { machineCpuMs, stackPids } from './lib/proc.ts';
import { printFigures, type Figure } from './report.ts';

// Set by cli() from its options.
let chunkCount = 64;
let rounds = 5;
let warmCount = 30;
let sizes = [1, 2, 4, 8];
let only: string | undefined;
let workerEnv: NodeJS.ProcessEnv = {};
let baseConfig: EtlConfig;

function configure(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      chunks: { type: 'string', default: '64' },
      rounds: { type: 'string', default: '5' },
      warm: { type: 'string', default: '30' },
      sizes: { type: 'string', default: '1,2,4,8' },
      only: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (values.only !== undefined && values.only !== 'throughput' && values.only !== 'invocations')
    throw new Error('--only: expected throughput or invocations');
  only = values.only;

  chunkCount = Number(values.chunks);
  rounds = Number(values.rounds);
  warmCount = Number(values.warm);
  sizes = values.sizes.split(',').map(Number);
  for (const [name, value] of Object.entries({ chunks: chunkCount, rounds, warm: warmCount })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: expected a whole number ≥ 1`);
  }
  if (!sizes.every((n) => Number.isInteger(n) && n >= 1 && n <= 256))
    throw new Error('--sizes: expected fleet sizes between 1 and 256, comma-separated');

  const demo = demoConfig();
  // What the listener gives its fleet (etl/listener/main.ts), under a service name of its own.
  workerEnv = {
    ...process.env,
    OTEL_SERVICE_NAME: 'bench-etl-worker',
    OBSERVATORY_S3_ENDPOINT: demo.s3.endpoint,
    OBSERVATORY_S3_BUCKET: demo.s3.bucket,
  };
  // The in-process baseline calls the same handler in this process, against the same store.
  process.env.OBSERVATORY_S3_ENDPOINT = workerEnv.OBSERVATORY_S3_ENDPOINT;
  process.env.OBSERVATORY_S3_BUCKET = workerEnv.OBSERVATORY_S3_BUCKET;

  // Sandboxes must stay warm between rounds: no idle reaping during the run.
  baseConfig = { ...etlConfig(), idleMs: 3_600_000, timeoutMs: 30_000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const log = (line: string) => process.stderr.write(`${line}\n`);
const rotate = <T>(xs: T[], by: number) => xs.map((_, i) => xs[(i + by) % xs.length]!);
/** The median with the range of the samples: rounds on a shared machine differ more than medians show. */
const spread = (xs: number[], format: (x: number) => string) =>
  `${format(median(xs))} (${format(Math.min(...xs))}–${format(Math.max(...xs))})`;

const allChunks: CropStatsPayload[] = days().flatMap((date) => tiles().map((tile) => ({ tile, date })));
const jobPrefix = `bench-etl-${randomUUID().slice(0, 8)}`;
let jobCounter = 0;

/** A chunk as the job runner builds it, with a trace context of its own (as the producer span would give it). */
function chunkEvent(jobId: string, index: number, count: number, fault?: ChunkEvent['fault']): ChunkEvent {
  return {
    job_id: jobId,
    kind: 'crop_stats',
    chunk_index: index,
    chunk_count: count,
    attempt: 1,
    payload: allChunks[index % allChunks.length]!,
    trace: { traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` },
    ...(fault ? { fault } : {}),
  };
}

/** Machine-wide busy share of every core since the previous reading (/proc/stat), for telling saturation apart. */
function cpuMeter(): () => number {
  const start = machineCpuMs();
  return () => {
    const end = machineCpuMs();
    return (end.busy - start.busy) / Math.max(1, end.total - start.total);
  };
}

async function invokeOk(fleet: Fleet, event: ChunkEvent, expectOk = true): Promise<InvocationResult> {
  const result = await fleet.invoke(event);
  if (result.ok !== expectOk)
    throw new Error(`invocation ${expectOk ? 'failed' : 'unexpectedly succeeded'}: ${result.error?.message}`);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Throughput per fleet size

async function throughput(): Promise<Figure[]> {
  const fleets = new Map<number, Fleet>();
  try {
    for (const size of sizes) {
      const fleet = new Fleet('crop_stats', { ...baseConfig, concurrency: size }, workerEnv);
      fleets.set(size, fleet);
      // Warm-up: `size` sandboxes start at once, then two more waves run on them (JIT, S3 connection pools).
      const warmJob = `${jobPrefix}-warm-${size}`;
      for (let wave = 0; wave < 3; wave++) {
        await Promise.all(
          Array.from({ length: size }, (_, i) =>
            invokeOk(fleet, chunkEvent(warmJob, wave * size + i, size * 3)),
          ),
        );
      }
      if (fleet.stats().warm !== size) throw new Error(`fleet ${size}: ${fleet.stats().warm} warm sandboxes`);
      log(`fleet ${size}: ${size} sandboxes warm`);
    }
    const samples = new Map<number, { rate: number; cpu: number; cold: number; billed: number }[]>(
      sizes.map((s) => [s, []]),
    );
    // CPU per process over the measured runs: the bench process plays the listener (it dispatches over IPC).
    const stack = Object.entries(await stackPids()).map(([name, pid]) => [name, [pid]] as const);
    const windows = new Map<number, CpuWindow[]>(sizes.map((s) => [s, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const size of rotate(sizes, round - 1)) {
        const fleet = fleets.get(size)!;
        const jobId = `${jobPrefix}-${++jobCounter}`;
        const cpu = cpuMeter();
        const perProcess = cpuWindow(() => ({
          'bench (dispatcher)': [process.pid],
          sandboxes: fleet.pids(),
          ...Object.fromEntries(stack),
        }));
        const started = performance.now();
        const results = await Promise.all(
          Array.from({ length: chunkCount }, (_, i) => invokeOk(fleet, chunkEvent(jobId, i, chunkCount))),
        );
        const seconds = (performance.now() - started) / 1000;
        windows.get(size)!.push(perProcess());
        const sample = {
          rate: chunkCount / seconds,
          cpu: cpu(),
          cold: results.filter((r) => r.coldStart).length,
          billed: median(results.map((r) => r.billedMs)),
        };
        samples.get(size)!.push(sample);
        log(
          `round ${round}/${rounds} fleet ${size}: ${sample.rate.toFixed(1)} chunks/s, ` +
            `median billed ${sample.billed} ms, CPU ${(sample.cpu * 100).toFixed(0)} %, ${sample.cold} cold`,
        );
      }
    }
    const baseline = median(samples.get(sizes[0]!)!.map((s) => s.rate));
    const out = [
      `\n### Throughput: ${chunkCount} crop_stats chunks per run, warm fleet\n`,
      `| fleet size | median chunks/s (range) | speed-up vs fleet ${sizes[0]} | median billed ms per chunk | machine CPU busy | cold starts |`,
      '| --- | --- | --- | --- | --- | --- |',
    ];
    for (const size of sizes) {
      const rates = samples.get(size)!.map((s) => s.rate);
      const rate = median(rates);
      const cpu = median(samples.get(size)!.map((s) => s.cpu));
      const cold = samples.get(size)!.reduce((n, s) => n + s.cold, 0);
      const billed = median(samples.get(size)!.map((s) => s.billed));
      out.push(
        `| ${size} | ${spread(rates, (x) => x.toFixed(1))} | ${(rate / baseline).toFixed(2)}× | ${billed} | ${(cpu * 100).toFixed(0)} % | ${cold} |`,
      );
    }
    const cpuBySize = new Map(
      sizes.map((s) => [s, { window: addWindows(windows.get(s)!), chunks: chunkCount * rounds }]),
    );
    out.push('', `### CPU per chunk by process (all ${rounds} rounds)\n`, cpuTable(cpuBySize));
    // Sandbox memory: now (warm, between jobs) and the peak over warm-up and every round (VmHWM).
    const memory = [...fleets.values()]
      .flatMap((fleet) => fleet.pids().map(rssMiB))
      .filter((m) => m !== undefined);
    out.push(
      '',
      `Sandbox RSS (${memory.length} sandboxes): steady ${Math.max(...memory.map((m) => m.rss)).toFixed(0)} MiB, ` +
        `peak ${Math.max(...memory.map((m) => m.peak)).toFixed(0)} MiB (the largest of them)`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
    return fleetFigures({
      rates: new Map(sizes.map((s) => [s, median(samples.get(s)!.map((x) => x.rate))])),
      cpu: cpuBySize,
      memory,
      cores: availableParallelism(),
    });
  } finally {
    await Promise.all([...fleets.values()].map((fleet) => fleet.close()));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2 and 3. One invocation, cold and warm: through the fleet (three telemetry settings) and in-process

interface Variant {
  name: string;
  work: 'trivial' | 'crop_stats';
  telemetry: string;
  env: Record<string, string>;
}

const TELEMETRY: { label: string; env: Record<string, string> }[] = [
  { label: 'flush ≤ 2000 ms (default)', env: { OBSERVATORY_ETL_FLUSH_TIMEOUT_MS: '2000' } },
  { label: 'flush timeout 0', env: { OBSERVATORY_ETL_FLUSH_TIMEOUT_MS: '0' } },
  { label: 'OTEL_SDK_DISABLED', env: { OTEL_SDK_DISABLED: 'true' } },
];
const variants: Variant[] = (['trivial', 'crop_stats'] as const).flatMap((work) =>
  TELEMETRY.map((t) => ({ name: `${work}, ${t.label}`, work, telemetry: t.label, env: t.env })),
);

/** One fresh sandbox: its first invocation (cold) and then `warmCount` more after a few discarded ones. */
async function sandboxRun(variant: Variant): Promise<{ cold: number; warm: number[] }> {
  const fleet = new Fleet('crop_stats', { ...baseConfig, concurrency: 1 }, { ...workerEnv, ...variant.env });
  const jobId = `${jobPrefix}-${++jobCounter}`;
  // A trivial invocation is the real worker with a chunk that fails in `before`, ahead of the handler.
  const event = (i: number) =>
    variant.work === 'trivial'
      ? chunkEvent(jobId, i, 1, { kind: 'throw', attempts: 1 })
      : chunkEvent(jobId, i, warmCount + 5);
  const expectOk = variant.work === 'crop_stats';
  try {
    let started = performance.now();
    const first = await invokeOk(fleet, event(0), expectOk);
    const cold = performance.now() - started;
    if (!first.coldStart) throw new Error(`${variant.name}: the first invocation was not a cold start`);
    for (let i = 1; i <= 4; i++) await invokeOk(fleet, event(i), expectOk);
    const warm: number[] = [];
    for (let i = 0; i < warmCount; i++) {
      started = performance.now();
      const result = await invokeOk(fleet, event(5 + i), expectOk);
      warm.push(performance.now() - started);
      if (result.coldStart) throw new Error(`${variant.name}: a warm invocation was a cold start`);
    }
    return { cold, warm };
  } finally {
    await fleet.close();
  }
}

const lambdaContext: LambdaContext = {
  functionName: 'crop_stats',
  functionVersion: '$LATEST',
  awsRequestId: 'bench',
  memoryLimitInMB: '512',
  invokedFunctionArn: 'arn:local:lambda:local:000000000000:function:crop_stats',
  getRemainingTimeInMillis: () => 30_000,
};
const noop: Handler = async () => undefined;

/** The same work in this process (no preload: the OpenTelemetry API is a no-op here), timed per call. */
async function inProcessRun(work: Variant['work']): Promise<number[]> {
  const jobId = `${jobPrefix}-${++jobCounter}`;
  const call = (i: number) =>
    work === 'trivial'
      ? noop(chunkEvent(jobId, i, 1), lambdaContext)
      : cropStats(chunkEvent(jobId, i, warmCount) as ChunkEvent<CropStatsPayload>, lambdaContext);
  const samples: number[] = [];
  for (let i = 0; i < warmCount; i++) {
    const started = performance.now();
    await call(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

async function invocations(): Promise<void> {
  // In-process first calls: the handler's S3 client is created on its first call, as in a sandbox.
  let started = performance.now();
  await cropStats(chunkEvent(`${jobPrefix}-first`, 0, 1) as ChunkEvent<CropStatsPayload>, lambdaContext);
  const inProcessFirst = performance.now() - started;
  // The runtime wrapper alone, without an SDK: what runInvocation costs around a no-op handler.
  const wrapper: number[] = [];
  for (let i = 0; i < 2000; i++) {
    started = performance.now();
    await runInvocation({
      handler: noop,
      event: chunkEvent('bench', i, 1),
      context: lambdaContext,
      coldStart: false,
      flushTimeoutMs: 0,
      cloud: { onAws: false, region: 'local' },
    });
    wrapper.push(performance.now() - started);
  }

  const fleetSamples = new Map(variants.map((v) => [v.name, { cold: [] as number[], warm: [] as number[] }]));
  const localSamples = new Map<Variant['work'], number[]>([
    ['trivial', []],
    ['crop_stats', []],
  ]);
  for (let round = 1; round <= rounds; round++) {
    for (const variant of rotate(variants, round - 1)) {
      const { cold, warm } = await sandboxRun(variant);
      fleetSamples.get(variant.name)!.cold.push(cold);
      fleetSamples.get(variant.name)!.warm.push(...warm);
      log(
        `round ${round}/${rounds} ${variant.name}: cold ${ms(cold)} ms, warm median ${ms(median(warm))} ms`,
      );
    }
    for (const work of ['trivial', 'crop_stats'] as const) {
      const samples = await inProcessRun(work);
      localSamples.get(work)!.push(...samples);
      log(`round ${round}/${rounds} ${work}, in-process: median ${ms(median(samples))} ms`);
    }
  }

  const warmOf = (name: string) => median(fleetSamples.get(name)!.warm);
  const coldOf = (name: string) => spread(fleetSamples.get(name)!.cold, ms);
  const local = (work: Variant['work']) => median(localSamples.get(work)!);
  const dflt = TELEMETRY[0]!.label;

  const out = [
    `\n### Dispatch overhead per invocation (fleet of 1, fresh sandbox per round; ms, medians)\n`,
    '| path | cold: first invocation (range) | warm | warm overhead vs in-process |',
    '| --- | --- | --- | --- |',
    `| in-process, no-op handler | — | ${local('trivial').toFixed(4)} | — |`,
    `| in-process, runInvocation around a no-op handler, no SDK | — | ${median(wrapper).toFixed(4)} | — |`,
    `| in-process, crop_stats handler | ${ms(inProcessFirst)} (1 sample) | ${ms(local('crop_stats'))} | — |`,
  ];
  for (const work of ['trivial', 'crop_stats'] as const) {
    const name = `${work}, ${dflt}`;
    out.push(
      `| Fleet, ${work === 'trivial' ? 'trivial invocation' : 'crop_stats'} (default telemetry) | ${coldOf(name)} | ${ms(warmOf(name))} | +${ms(warmOf(name) - local(work))} |`,
    );
  }
  out.push(
    '',
    '### Telemetry flush cost per invocation (same fleet runs; ms, medians)\n',
    '| invocation | telemetry | cold (range) | warm | warm: default costs this much more |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const variant of variants) {
    const reference = `${variant.work}, ${dflt}`;
    const cost = warmOf(reference) - warmOf(variant.name);
    out.push(
      `| ${variant.work} | ${variant.telemetry} | ${coldOf(variant.name)} | ${ms(warmOf(variant.name))} | ${variant.name === reference ? '—' : `${cost >= 0 ? '+' : ''}${ms(cost)}`} |`,
    );
  }
  out.push(
    '',
    'Trivial invocation: the real worker with a `throw` fault, so the handler never runs (its span records the ' +
      'exception). Flush timeout 0 stops waiting for the export, not the export: what remains is the telemetry ' +
      'work itself. OTEL_SDK_DISABLED removes all of it (invocation span, S3 and HTTP spans, events, export).',
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------------------------

/** The command line (`npm run bench -- etl [options]` or `node bench/etl.ts`); returns the figures. */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  configure(argv);
  const seeded = await seed(S3Store.fromSettings(demoConfig().s3));
  log(`catalog: ${seeded.scenes} scenes${seeded.written ? ' (seeded now)' : ''}; jobs ${jobPrefix}-*`);
  const started = performance.now();
  const loadBefore = loadavg()[0]!;
  const figures = only !== 'invocations' ? await throughput() : [];
  if (only !== 'throughput') await invocations();
  process.stdout.write(
    `\n${rounds} interleaved rounds (order rotated each round); throughput: ${chunkCount} chunks per run, fleets warmed ` +
      `first; invocations: a fresh sandbox per variant per round, 1 cold + 4 discarded + ${warmCount} timed warm ` +
      `invocations; Node ${process.version}, ${availableParallelism()} cores, load average ` +
      `${loadBefore.toFixed(1)} before / ${loadavg()[0]!.toFixed(1)} after; ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
