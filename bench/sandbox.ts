/**
 * What one ETL worker sandbox costs in memory and start-up (issue 24): a sandbox started as the fleet starts it
 * (etl/runtime/fleet.ts's forkSandbox: the preload, a Lambda-sized heap), timed from spawn to its `ready` message,
 * then given chunks one at a time over IPC as the fleet gives them. Reports the time to ready, the resident memory
 * when ready, and the peak over every chunk — the process's VmHWM from /proc, which counts whatever the process
 * holds (V8's heaps, native buffers, DuckDB and the staging worker thread of a compaction) — for a crop-statistics
 * sandbox and for a compaction sandbox. Each round starts fresh sandboxes; the functions alternate. Needs the stack
 * (`npx observatory stack up`).
 *
 *   npm run bench -- sandbox [--rounds 3] [--chunks 100] [--compactions 2] [--objects 25]
 *
 * A crop-statistics chunk is a tile on a day of the seeded catalog. A compaction chunk is what the listener plans by
 * default (etl/listener/main.ts: batch_size 25): 25 raw log objects of one arrival hour, each 1 000 records with 1 KiB
 * bodies, as the Collector writes them at 1 000 records/s (bench/lake.ts makes them), written into the stack's raw
 * zone under an hour of 2026-11-01, so the curated rows land in that day's partition of the stack's lake.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { S3Store } from '../common/s3-store.ts';
import { etlConfig } from '../etl/config.ts';
import { forkSandbox } from '../etl/runtime/fleet.ts';
import { sandboxFiles } from '../etl/runtime/sandbox-build.ts';
import type { ChunkEvent, FunctionName, InvocationResult } from '../etl/types.ts';
import { days, seed, tiles } from '../imagery/scenes.ts';
import { demoConfig } from '../services/config.ts';
import { generateRaw } from './lake.ts';
import { cpuMs, statusMiB } from './lib/proc.ts';
import { printFigures, type Figure } from './report.ts';

/** Issue 24: a 128 MB Lambda with room for the runtime's own share. */
const PEAK_TARGET_MIB = 110;
const READY_TARGET_MS = 500;

interface Sample {
  readyMs: number;
  /** The CPU time the sandbox spent getting ready: what the wall time would be on an idle core. */
  readyCpuMs: number;
  readyMiB: number;
  peakMiB: number;
  steadyMiB: number;
  billedMs: number[];
  /** The sandbox's CPU time (user + system, from /proc) per chunk: robust where wall time is not, on a shared machine. */
  cpuMsPerChunk: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const log = (line: string) => process.stderr.write(`${line}\n`);

function chunkEvent(kind: FunctionName, index: number, payload: unknown): ChunkEvent {
  return {
    job_id: `bench-sandbox-${kind}`,
    kind,
    chunk_index: index,
    chunk_count: index + 1,
    attempt: 1,
    payload,
    trace: { traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` },
  };
}

/** One fresh sandbox of `kind`: spawn → ready, then the chunks one at a time; its memory read from /proc. */
async function runSandbox(
  kind: FunctionName,
  payloads: unknown[],
  env: Record<string, string | undefined>,
): Promise<Sample> {
  const config = { ...etlConfig(), timeoutMs: 600_000 };
  // Built before the clock starts, as a listener builds it when it makes its fleet.
  const files = await sandboxFiles();
  const started = performance.now();
  const child = forkSandbox(kind, config, env, files);
  const next = () =>
    new Promise<{ type: string; result?: InvocationResult }>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) =>
        reject(new Error(`${kind} sandbox exited (${signal ?? code})`));
      child.once('exit', onExit);
      child.once('message', (message: { type: string; result?: InvocationResult }) => {
        child.off('exit', onExit);
        resolve(message);
      });
    });
  try {
    if ((await next()).type !== 'ready') throw new Error(`${kind} sandbox: expected ready`);
    const readyMs = performance.now() - started;
    const pid = child.pid!;
    const readyMiB = statusMiB(pid, 'VmRSS') ?? NaN;
    const cpuAtReady = cpuMs(pid);
    const billedMs: number[] = [];
    for (const [i, payload] of payloads.entries()) {
      child.send({ type: 'invoke', event: chunkEvent(kind, i, payload), timeoutMs: config.timeoutMs });
      const { result } = await next();
      if (!result?.ok) throw new Error(`${kind} chunk ${i} failed: ${result?.error?.message}`);
      billedMs.push(result.billedMs);
    }
    return {
      readyMs,
      readyCpuMs: cpuAtReady,
      readyMiB,
      peakMiB: statusMiB(pid, 'VmHWM') ?? NaN,
      steadyMiB: statusMiB(pid, 'VmRSS') ?? NaN,
      billedMs,
      cpuMsPerChunk: (cpuMs(pid) - cpuAtReady) / payloads.length,
    };
  } finally {
    child.kill('SIGTERM');
  }
}

/** The compaction chunks: `count` batches of `objects` raw log objects each, written to the stack's raw zone. */
async function compactionPayloads(count: number, objects: number): Promise<unknown[]> {
  const payloads: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const { keys } = await generateRaw('logs', '', { rate: 1000, seconds: objects, body: 1024 }, 0);
    payloads.push({ signal: 'logs', keys });
  }
  return payloads;
}

/** The command line (`npm run bench -- sandbox [options]`); returns the figures. */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '3' },
      chunks: { type: 'string', default: '100' },
      compactions: { type: 'string', default: '2' },
      objects: { type: 'string', default: '25' },
    },
  });
  const rounds = Number(values.rounds);
  const demo = demoConfig();
  const env = {
    ...process.env,
    OTEL_SERVICE_NAME: 'bench-sandbox',
    OBSERVATORY_S3_ENDPOINT: demo.s3.endpoint,
    OBSERVATORY_S3_BUCKET: demo.s3.bucket,
  };
  await seed(S3Store.fromSettings(demo.s3));
  const crop = days().flatMap((date) => tiles().map((tile) => ({ tile, date })));
  const cropPayloads = Array.from({ length: Number(values.chunks) }, (_, i) => crop[i % crop.length]);
  const load = [loadavg()[0]!];
  const samples = new Map<FunctionName, Sample[]>([
    ['crop_stats', []],
    ['compaction', []],
  ]);
  for (let round = 1; round <= rounds; round++) {
    const order: FunctionName[] = round % 2 ? ['crop_stats', 'compaction'] : ['compaction', 'crop_stats'];
    for (const kind of order) {
      const payloads =
        kind === 'crop_stats'
          ? cropPayloads
          : await compactionPayloads(Number(values.compactions), Number(values.objects));
      const sample = await runSandbox(kind, payloads, env);
      samples.get(kind)!.push(sample);
      log(
        `round ${round}/${rounds} ${kind}: ready in ${sample.readyMs.toFixed(0)} ms (CPU ${sample.readyCpuMs.toFixed(0)} ms) at ${sample.readyMiB.toFixed(1)} MiB; ` +
          `${payloads.length} chunks (median ${median(sample.billedMs)} ms, CPU ${sample.cpuMsPerChunk.toFixed(1)} ms each): peak ${sample.peakMiB.toFixed(1)} MiB, ` +
          `steady ${sample.steadyMiB.toFixed(1)} MiB`,
      );
    }
  }
  load.push(loadavg()[0]!);
  log(`load average ${load.map((l) => l.toFixed(1)).join(' → ')}`);
  const figures = [...samples].flatMap(([kind, runs]) => figuresOf(kind, runs));
  printFigures(figures);
  return figures;
}

function figuresOf(kind: FunctionName, runs: Sample[]): Figure[] {
  const what = kind === 'crop_stats' ? 'crop_stats' : 'compaction (25 raw log objects a chunk)';
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
  return [
    {
      id: `sandbox.${kind}.peak`,
      figure: `ETL ${what} sandbox: peak RSS over its chunks (VmHWM)`,
      ours: median(runs.map((r) => r.peakMiB)),
      unit: 'MiB',
      target: PEAK_TARGET_MIB,
      better: 'lower',
      note: `CPU per chunk ${median(runs.map((r) => r.cpuMsPerChunk)).toFixed(1)} ms; ready ${median(runs.map((r) => r.readyMiB)).toFixed(0)} MiB, steady ${median(runs.map((r) => r.steadyMiB)).toFixed(0)} MiB; rounds ${range(runs.map((r) => r.peakMiB))}`,
    },
    {
      id: `sandbox.${kind}.ready`,
      figure: `ETL ${what} sandbox: spawn → ready`,
      ours: median(runs.map((r) => r.readyMs)),
      unit: 'ms',
      target: READY_TARGET_MS,
      better: 'lower',
      note: `CPU to ready ${median(runs.map((r) => r.readyCpuMs)).toFixed(0)} ms; rounds ${range(runs.map((r) => r.readyMs))}`,
    },
  ];
}

if (import.meta.main) await cli();
