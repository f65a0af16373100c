/**
 * Chaos scenarios against a real stack of their own (Collector, Jaeger, S3 store, queue server on ports of their
 * own, started and stopped one component at a time by the project's Stack): each drives a real workload, breaks one
 * component, brings it back, and counts by ID what was sent, what arrived, what was lost and what arrived twice.
 * They return figures and do not judge them: the tests (test/chaos/) assert on the short form, the bench
 * (`npm run bench -- chaos [--long]`) prints the long form. Every loop here is bounded in count and time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/paths.ts';
import { sleep } from '../../common/poll.ts';
import { S3Store } from '../../common/s3-store.ts';
import type { Stack } from '../../stack/stack.ts';
import type { JobView } from '../../etl/listener/jobs.ts';
import { seed } from '../../imagery/scenes.ts';
import { compactAll, lakeConfig, parseOtlpLogs, queryLake, type LakeConfig } from '../../lake/index.ts';
import { isolatedStack, type IsolatedStack } from '../../stack/isolated-stack.ts';
import type { AppStats } from './app.ts';

/** How long each phase lasts; the short form runs in `npm test`, the long one from the bench. */
export interface Timings {
  /** Steady load before the outage. */
  leadSeconds: number;
  outageSeconds: number;
  /** Steady load after the component is back. */
  tailSeconds: number;
  /** Requests per second of the steady load. */
  rate: number;
}

export const SHORT: Timings = { leadSeconds: 3, outageSeconds: 12, tailSeconds: 3, rate: 10 };
export const LONG: Timings = { leadSeconds: 10, outageSeconds: 60, tailSeconds: 10, rate: 20 };

/** What one scenario counted. Units are the scenario's own (spans, events, chunks): `unit` says which. */
export interface Figures {
  scenario: string;
  unit: string;
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  /** Growth of the app's resident memory from before the outage to its peak, in MiB. */
  rssGrowthMiB?: number;
  /** Scenario-specific counts (failed requests, counted drops, dead letters, …). */
  details: Record<string, unknown>;
}

/** Every span of one `/work` request: the HTTP server span, chaos.work, chaos.step (bench/chaos/app.ts). */
export const SPANS_PER_REQUEST = 3;
const MiB = 1024 * 1024;

/** A stack on ports base..base+13 with its own state folder, so other stacks and tests are not disturbed. */
export class ChaosStack {
  private readonly isolated: IsolatedStack;
  readonly stack: Stack;
  /** The settings that point a process at this stack (ports, state folder, store, OTLP endpoint). */
  readonly env: Record<string, string>;

  constructor(base: number, say: (line: string) => void = () => {}) {
    this.isolated = isolatedStack('bench-chaos', base, { say });
    this.stack = this.isolated.stack;
    this.env = this.isolated.overrides;
  }

  async up(): Promise<void> {
    await this.isolated.up();
  }

  async down(): Promise<void> {
    await this.isolated.down();
  }

  /** The environment of an instrumented process that reports to this stack and uses its store and queues. */
  appEnv(serviceName: string): Record<string, string> {
    return {
      ...this.env,
      OTEL_SERVICE_NAME: serviceName,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BLRP_SCHEDULE_DELAY: '200',
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
    };
  }

  store(): S3Store {
    return S3Store.fromSettings(this.stack.config.s3);
  }

  get jaeger(): string {
    return `http://127.0.0.1:${this.stack.config.jaeger.query}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The app and its load

interface App {
  url: string;
  child: ChildProcess;
  stats(): Promise<AppStats>;
  stop(): Promise<void>;
}

/** Starts bench/chaos/app.ts under the preload, reporting to `stack`. */
async function startApp(stack: ChaosStack, extraEnv: Record<string, string> = {}): Promise<App> {
  const child = spawn(process.execPath, ['--require', './instrumentation', 'bench/chaos/app.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...stack.appEnv('chaos-app'), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stderr!.resume();
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('the chaos app did not listen within 30 s')), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = buffered.match(/^LISTENING (\d+)$/m);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`the chaos app exited (code ${code}) before listening`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    stats: () =>
      new Promise<AppStats>((resolve) => {
        child.once('message', (message) => resolve(message as AppStats));
        child.send('stats');
      }),
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

interface Answer {
  id: string;
  status: number;
  traceId: string | undefined;
  answeredAt: number;
}

/** Open-loop load on `/work`: `rate` requests a second until stopped, and never longer than `maxSeconds`. */
function steadyLoad(app: App, run: string, rate: number, maxSeconds: number) {
  const answers: Answer[] = [];
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - started > maxSeconds * 1000) return clearInterval(timer);
    const id = `${run}-${sent++}`;
    const task = fetch(`${app.url}/work?id=${id}`, { signal: AbortSignal.timeout(10_000) })
      .then(async (response) => {
        const body = (await response.json()) as { trace_id?: string };
        answers.push({ id, status: response.status, traceId: body.trace_id, answeredAt: Date.now() });
      })
      .catch(() => {
        answers.push({ id, status: 0, traceId: undefined, answeredAt: Date.now() });
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  }, 1000 / rate);
  return {
    answers,
    sent: () => sent,
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}

/** Stops `component`, waits `seconds`, starts it again; returns when it went down and when it was back. */
async function outage(stack: ChaosStack, component: 'jaeger' | 's3' | 'collector', seconds: number) {
  const downAt = Date.now();
  await stack.stack.down([component]);
  await sleep(seconds * 1000);
  await stack.stack.up([component]);
  return { downAt, upAt: Date.now() };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading back by ID

interface JaegerTrace {
  spans: { spanID: string }[];
}

async function traceSpans(stack: ChaosStack, traceId: string): Promise<string[]> {
  const response = await fetch(`${stack.jaeger}/api/traces/${traceId}`, {
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status === 404) return [];
  const body = (await response.json()) as { data?: JaegerTrace[] };
  return (body.data ?? []).flatMap((t) => t.spans.map((s) => s.spanID));
}

/**
 * Polls Jaeger until every trace has `expected` spans or `timeoutMs` passes; returns each trace's span IDs as last
 * seen (duplicates included).
 */
async function collectTraces(
  stack: ChaosStack,
  traceIds: string[],
  complete: (spans: string[]) => boolean,
  timeoutMs: number,
): Promise<Map<string, string[]>> {
  const seen = new Map<string, string[]>(traceIds.map((id) => [id, []]));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = [...seen].filter(([, spans]) => !complete(spans)).map(([id]) => id);
    if (pending.length === 0 || Date.now() > deadline) return seen;
    for (let i = 0; i < pending.length; i += 8) {
      await Promise.all(
        pending.slice(i, i + 8).map(async (id) => {
          try {
            seen.set(id, await traceSpans(stack, id));
          } catch {
            // Jaeger still starting: next round.
          }
        }),
      );
    }
    await sleep(2000);
  }
}

function spanFigures(traces: Map<string, string[]>) {
  let received = 0;
  let duplicates = 0;
  for (const spans of traces.values()) {
    const unique = new Set(spans).size;
    received += unique;
    duplicates += spans.length - unique;
  }
  return { received, duplicates };
}

// ---------------------------------------------------------------------------------------------------------------
// The scenarios

/** Jaeger down under steady load: every span of every request answered during the outage must reach it after. */
export async function jaegerOutage(stack: ChaosStack, timings: Timings): Promise<Figures> {
  const app = await startApp(stack);
  try {
    const run = randomUUID().slice(0, 8);
    const load = steadyLoad(app, run, timings.rate, timings.leadSeconds + timings.outageSeconds + 120);
    await sleep(timings.leadSeconds * 1000);
    const { downAt, upAt } = await outage(stack, 'jaeger', timings.outageSeconds);
    await sleep(timings.tailSeconds * 1000);
    await load.stop();
    const during = load.answers.filter(
      (a) => a.status === 200 && a.answeredAt >= downAt && a.answeredAt <= upAt,
    );
    const traces = await collectTraces(
      stack,
      during.map((a) => a.traceId!),
      (spans) => new Set(spans).size >= SPANS_PER_REQUEST,
      120_000,
    );
    const { received, duplicates } = spanFigures(traces);
    const sent = during.length * SPANS_PER_REQUEST;
    const incomplete = [...traces].filter(([, spans]) => new Set(spans).size < SPANS_PER_REQUEST);
    return {
      scenario: `Jaeger down ${timings.outageSeconds} s under ${timings.rate} req/s`,
      unit: 'spans',
      sent,
      received,
      lost: sent - received,
      duplicates,
      details: {
        requestsDuringOutage: during.length,
        failedRequests: load.answers.filter((a) => a.status !== 200).length,
        incompleteTraces: incomplete.slice(0, 5).map(([id, spans]) => `${id} (${new Set(spans).size} spans)`),
      },
    };
  } finally {
    await app.stop();
  }
}

/**
 * The S3 store down while events are tracked: every accepted event must be in raw/events/ afterwards (found by the
 * ID each carries), and after compaction each exactly once in the lake.
 */
export async function storeOutage(stack: ChaosStack, timings: Timings): Promise<Figures> {
  const app = await startApp(stack);
  const run = randomUUID().slice(0, 8);
  let accepted: string[];
  let tracked: AppStats['tracked'];
  try {
    const load = steadyLoad(app, run, timings.rate, timings.leadSeconds + timings.outageSeconds + 120);
    await sleep(timings.leadSeconds * 1000);
    await outage(stack, 's3', timings.outageSeconds);
    await sleep(timings.tailSeconds * 1000);
    await load.stop();
    accepted = load.answers.filter((a) => a.status === 200).map((a) => a.id);
    tracked = (await app.stats()).tracked;
  } finally {
    await app.stop();
  }
  const store = stack.store();
  const raw = await readRawEvents(store, new Set(accepted), 120_000);
  const rawCopies = [...raw.values()].reduce((sum, ids) => sum + ids.length, 0);

  const cacheDir = mkdtempSync(join(tmpdir(), 'observatory-chaos-lake-'));
  try {
    const config: LakeConfig = { ...lakeConfig(), s3: stack.stack.config.s3, cacheDir };
    const compaction = await compactAll({ store, config });
    const { rows } = await queryLake(
      `SELECT query, count(*) AS n FROM events WHERE event_name = 'search_made' AND query LIKE '${run}-%' GROUP BY query`,
      { store, config },
    );
    const curated = new Map(rows.map((row) => [String(row.query), Number(row.n)]));
    const received = accepted.filter((id) => raw.has(id)).length;
    return {
      scenario: `S3 store down ${timings.outageSeconds} s while ${timings.rate} events/s are tracked`,
      unit: 'events',
      sent: accepted.length,
      received,
      lost: accepted.length - received,
      duplicates: rawCopies - raw.size,
      details: {
        trackerCounts: tracked,
        missing: accepted.filter((id) => !raw.has(id)).slice(0, 5),
        compactedObjects: compaction.objects,
        curatedRows: [...curated.values()].reduce((a, b) => a + b, 0),
        curatedMissing: accepted.filter((id) => !curated.has(id)).length,
        curatedTwice: [...curated.values()].filter((n) => n > 1).length,
      },
    };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** Our events in raw/events/, by the request ID in their `query`: each ID → the event IDs of its copies. */
async function readRawEvents(
  store: S3Store,
  wanted: Set<string>,
  timeoutMs: number,
): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const read = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while ([...wanted].some((id) => !found.has(id)) && Date.now() < deadline) {
    try {
      for (const { key } of await store.list('raw/events/')) {
        if (read.has(key)) continue;
        const document = parseOtlpLogs(await store.getText(key), key);
        read.add(key);
        for (const resource of document.resourceLogs ?? [])
          for (const scope of resource.scopeLogs ?? [])
            for (const record of scope.logRecords ?? []) {
              const query = record.body?.kvlistValue?.values?.find((v) => v.key === 'query')?.value
                ?.stringValue;
              const eventId = record.attributes?.find((a) => a.key === 'event.id')?.value?.stringValue;
              if (query && wanted.has(query)) found.set(query, [...(found.get(query) ?? []), eventId ?? '']);
            }
      }
    } catch {
      // The store is still coming back: next round.
    }
    await sleep(1000);
  }
  return found;
}

/**
 * The Collector down under steady load: no request may fail, the app's memory must stay bounded, and the
 * instrumentation's `deliveries()` must count exactly the spans that never reached Jaeger.
 */
export async function collectorOutage(stack: ChaosStack, timings: Timings): Promise<Figures> {
  const app = await startApp(stack);
  try {
    const run = randomUUID().slice(0, 8);
    const load = steadyLoad(app, run, timings.rate, timings.leadSeconds + timings.outageSeconds + 120);
    await sleep(timings.leadSeconds * 1000);
    const before = (await app.stats()).rss;
    let peak = before;
    const sampler = setInterval(() => {
      void app.stats().then((s) => (peak = Math.max(peak, s.rss)));
    }, 500);
    await outage(stack, 'collector', timings.outageSeconds);
    await sleep(timings.tailSeconds * 1000);
    await load.stop();
    clearInterval(sampler);
    const counts = await settledDeliveries(app);
    const answered = load.answers.filter((a) => a.status === 200 && a.traceId);
    const traces = await collectTraces(
      stack,
      answered.map((a) => a.traceId!),
      (spans) => new Set(spans).size >= SPANS_PER_REQUEST,
      30_000,
    );
    const { received, duplicates } = spanFigures(traces);
    const spans = counts.spans;
    return {
      scenario: `Collector down ${timings.outageSeconds} s under ${timings.rate} req/s`,
      unit: 'spans',
      sent: spans.offered,
      received,
      lost: spans.offered - received,
      duplicates,
      rssGrowthMiB: Math.round(((peak - before) / MiB) * 10) / 10,
      details: {
        requests: load.sent(),
        failedRequests: load.answers.filter((a) => a.status !== 200).length,
        deliveries: spans,
        countedDropped: spans.dropped,
        logs: counts.logs,
      },
    };
  } finally {
    await app.stop();
  }
}

/** The delivery counts once the SDK's queues have drained: nothing offered is still pending for 3 s running. */
async function settledDeliveries(app: App): Promise<AppStats['deliveries']> {
  let last = '';
  let stableSince = Date.now();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { deliveries } = await app.stats();
    const key = JSON.stringify([deliveries.spans, deliveries.logs]);
    if (key !== last) {
      last = key;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= 3000 || Date.now() > deadline) {
      return deliveries;
    }
    await sleep(500);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The ETL: sandboxes killed mid-chunk and a poison chunk

export interface EtlChaosOptions {
  dispatch: 'fleet' | 'sqs';
  /** Days of one tile: one chunk each (at least 3). */
  chunks: number;
  /** Sandboxes killed from outside while the job runs, besides the faults the job asks for. */
  kills: number;
}

export const SHORT_ETL = { chunks: 6, kills: 1 };
export const LONG_ETL = { chunks: 30, kills: 10 };

/**
 * One crop-statistics job whose chunk 0 is killed once (SIGKILL in its sandbox), chunk 1 on every attempt and chunk 2
 * throws on every attempt (poison), while `kills` busy sandboxes are killed from outside. Counts chunks: each must
 * end done or dead-lettered with a reason, none both, none neither.
 */
export async function etlChaos(
  stack: ChaosStack,
  options: EtlChaosOptions,
): Promise<Figures & { job: JobView; queue: string }> {
  await seed(stack.store());
  const name = `chaos-${randomUUID().slice(0, 8)}`;
  const queue = `${name}.fifo`;
  const listener = spawn(process.execPath, ['--require', './instrumentation', 'etl/listener/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...stack.appEnv('etl-listener'),
      OBSERVATORY_ETL_PORT: '0',
      OBSERVATORY_ETL_ALLOW_FAULTS: 'true',
      OBSERVATORY_ETL_CONCURRENCY: '2',
      OBSERVATORY_ETL_RETRY_BASE_MS: '100',
      OBSERVATORY_ETL_TIMEOUT_MS: '20000',
      OBSERVATORY_ETL_DISPATCH: options.dispatch,
      OBSERVATORY_ETL_CHUNK_QUEUE: queue,
      OBSERVATORY_ETL_RESULT_QUEUE: `${name}-results`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  listener.stderr!.resume();
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(
        () => reject(new Error('the ETL listener did not listen within 60 s')),
        60_000,
      );
      listener.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const match = buffered.match(/^LISTENING (\d+)$/m);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
        if (buffered.length > 100_000) buffered = buffered.slice(-1000);
      });
      listener.once('exit', (code) => reject(new Error(`the ETL listener exited (code ${code})`)));
    });
    const url = `http://127.0.0.1:${port}`;
    const to = new Date(Date.UTC(2026, 5, options.chunks)).toISOString().slice(0, 10);
    const response = await fetch(`${url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        bbox: [0, 40, 5, 45],
        from: '2026-06-01',
        to,
        fault: [
          { chunks: [0], kind: 'crash', attempts: 1 },
          { chunks: [1], kind: 'crash', attempts: 99 },
          { chunks: [2], kind: 'throw', attempts: 99 },
        ],
      }),
    });
    if (response.status !== 202) throw new Error(`the listener refused the job: ${await response.text()}`);
    const { id } = (await response.json()) as JobView;
    const kills = await killSandboxes(listener.pid!, url, options.kills);
    const job = await waitForJob(url, id, 120_000 + options.chunks * 10_000);
    const dead = new Set(job.dead_letters.map((d) => d.chunk_index));
    const accounted = job.chunks.done + job.dead_letters.length;
    return {
      scenario: `ETL, ${options.dispatch} dispatch: ${options.chunks} chunks, 2 killed by their faults, 1 poison, ${options.kills} sandboxes killed from outside`,
      unit: 'chunks',
      sent: job.chunks.total,
      received: accounted,
      lost: job.chunks.total - accounted,
      duplicates: job.dead_letters.length - dead.size,
      details: {
        status: job.status,
        retried: job.chunks.retried,
        killsFromOutside: kills,
        deadLetters: job.dead_letters,
      },
      job,
      queue,
    };
  } finally {
    await stopChild(listener);
  }
}

/** SIGKILLs `count` of the listener's sandboxes, each while the fleet reports a running invocation. */
async function killSandboxes(listenerPid: number, url: string, count: number): Promise<number> {
  let killed = 0;
  const deadline = Date.now() + 120_000;
  while (killed < count && Date.now() < deadline) {
    await sleep(300 + Math.random() * 700);
    const fleet = (await (await fetch(`${url}/fleet`)).json()) as Record<string, { running: number }>;
    if (!Object.values(fleet).some((f) => f.running > 0)) continue;
    const children = childPids(listenerPid);
    const victim = children[Math.floor(Math.random() * children.length)];
    if (victim === undefined) continue;
    try {
      process.kill(victim, 'SIGKILL');
      killed++;
    } catch {
      // It ended on its own meanwhile.
    }
  }
  return killed;
}

/** The pids whose parent is `pid` (the listener's sandboxes: processes this scenario started, through it). */
function childPids(pid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) pids.push(Number(entry));
    } catch {
      // Gone already.
    }
  }
  return pids;
}

async function waitForJob(url: string, id: string, timeoutMs: number): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const job = (await (await fetch(`${url}/jobs/${id}`)).json()) as JobView;
    if (job.status !== 'queued' && job.status !== 'running') return job;
    await sleep(500);
  }
  throw new Error(`job ${id} did not finish within ${timeoutMs / 1000} s`);
}

/** The figures as a Markdown table, for docs/performance.md and the bench's output. */
export function formatFigures(all: Figures[]): string {
  const lines = [
    '| scenario | unit | sent | received | lost | duplicates | RSS growth | details |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const f of all) {
    lines.push(
      `| ${f.scenario} | ${f.unit} | ${f.sent} | ${f.received} | ${f.lost} | ${f.duplicates} | ${f.rssGrowthMiB === undefined ? '—' : `${f.rssGrowthMiB} MiB`} | ${JSON.stringify(f.details)} |`,
    );
  }
  return lines.join('\n');
}
