/**
 * The soak: the demo platform (every service and the ETL listener under the preload) on a stack of its own, driven
 * by the load generator at `--rate` req/s for `--minutes`, with a crop-statistics ETL job and a compaction of every
 * signal each minute, then one last compaction. It reports:
 *
 * - requests, and server errors other than the injected faults (goal 0), each classified by route, status, the
 *   service where it began and the error there (read from the services' logs by trace ID), grouped, with a trace ID
 *   each to look it up;
 * - chunks dead-lettered by the ETL jobs and compactions (goal 0);
 * - every event ID of the raw zone (the objects the last compaction took) in the curated lake exactly once (events
 *   or rejected table): missing and duplicated IDs (goal 0 each);
 * - each long-lived process's RSS after the warm-up (a tenth of the run, at least ten minutes: Jaeger's ring of traces
 *   is full and the services' hot code optimised by then) and at the end (goal ≤ +10 %): the five platform
 *   processes and the stack's components (worker sandboxes come and go, not counted), except the stores that grow by design until a bound (Jaeger: ≤ 300 MiB;
 *   Prometheus's head block: reported). RSS is sampled every 15 s; each of the two is the median of the samples of a
 *   window (the first minutes after the warm-up, the last minutes of the load; `RSS_WINDOW_MS`), so that a burst or a
 *   pool released just before one single reading does not decide it; the single readings are printed beside them;
 * - Jaeger's and the Collector's CPU per 10 000 spans/s under the demo load, after the warm-up;
 * - then (unless `--skip-stop`) how long `observatory demo` takes to stop on SIGINT while a compaction job runs, its
 *   first chunk made to hang (goal ≤ 5 s; before, it waited out the 120 s compaction timeout).
 *
 *   npm run bench -- soak [--minutes 30] [--rate 20] [--base 26800] [--skip-stop]
 *
 * Not in the default `npm run bench` set: it takes `--minutes` on purpose. Starts a stack: run it inside a network
 * namespace when other stacks run on the machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { EVENT_ATTRIBUTES } from '../common/names.ts';
import { S3Store } from '../common/s3-store.ts';
import { REPO_ROOT } from '../common/paths.ts';
import { formatTable } from '../common/table.ts';
import { pollUntil, sleep } from '../common/poll.ts';
import { startPlatform, type Platform } from '../demo/platform.ts';
import { DEFAULT_MIX, runLoad, type Failure, type LoadReport } from '../demo/load-generator.ts';
import { lakeConfig, parseOtlpLogs, queryLake, unprocessedKeys, type LakeConfig } from '../lake/index.ts';
import { startIsolatedStack, type IsolatedStack } from '../stack/isolated-stack.ts';
import { causeOf, errorLinesByTrace, groupCauses } from './lib/service-logs.ts';
import { cpuMs, machineCpuMs, residentParts, stackPids, statusMiB, type ResidentParts } from './lib/proc.ts';
import { promSamples } from './lib/collector-process.ts';
import { spawnDemoCli } from './lib/demo-run.ts';
import { failedFigure, printFigures, type Figure } from './report.ts';

const log = (line: string) => process.stderr.write(`[soak] ${line}\n`);

interface Options {
  minutes: number;
  rate: number;
  base: number;
  skipStop: boolean;
}

/** What the minute-by-minute jobs did. */
interface JobTally {
  submitted: number;
  done: number;
  failed: string[];
  deadLettered: number;
}

interface JobView {
  status: string;
  chunks: { in_flight: number };
  dead_letters: unknown[];
}

/** The command line (`npm run bench -- soak [options]` or `node bench/soak.ts`); returns the figures. */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '30' },
      rate: { type: 'string', default: '20' },
      base: { type: 'string', default: '26800' },
      'skip-stop': { type: 'boolean', default: false },
    },
  });
  const options: Options = {
    minutes: Number(values.minutes),
    rate: Number(values.rate),
    base: Number(values.base),
    skipStop: values['skip-stop'],
  };
  const bench = await startIsolatedStack('bench-soak', options.base, {
    say: (line) => log(`stack: ${line}`),
  });
  const figures: Figure[] = [];
  try {
    figures.push(...(await soak(bench, options)));
    if (!options.skipStop) figures.push(await stopFigure(bench, options.base));
  } catch (error) {
    figures.push(failedFigure('soak', 'Soak', error));
  } finally {
    await bench.down();
  }
  printFigures(figures);
  return figures;
}

/** Unexpected server errors kept for classification: far more than a healthy run has, and bounded. */
const MAX_FAILURES = 20_000;

async function soak(bench: IsolatedStack, options: Options): Promise<Figure[]> {
  // The run's service logs are kept (the stack's state folder is not): the causes below point into them.
  const logDir = join(REPO_ROOT, '.observatory', 'soak', new Date().toISOString().replaceAll(':', '-'));
  const platform = await startPlatform({ env: bench.env as Record<string, string>, freePorts: true, logDir });
  log(`service logs: ${logDir}`);
  const failures: Failure[] = [];
  // Counted apart from the ones kept: the minute-by-minute table counts every one, past MAX_FAILURES too.
  const failed = { count: 0 };
  try {
    const pids = await processes(bench, platform);
    // A tenth of the run, and at least ten minutes (a third of a shorter run): Jaeger's ring of traces is full after
    // ≈ 4 minutes of the load, and a service that gets few requests (users) has its hot code optimised between
    // minutes 5.5 and 10 of its life — V8's code space and glibc's heap grow together by ≈ 10 MiB, then stay flat
    // (runs 11, 15, 16 and 18: 111 → 113 MiB over minutes 10–60 of run 18).
    const warmupMs = Math.max(Math.min(600_000, options.minutes * 20_000), options.minutes * 6_000);
    const jobs: JobTally = { submitted: 0, done: 0, failed: [], deadLettered: 0 };
    const stopping = new AbortController();
    log(`load at ${options.rate} req/s for ${options.minutes} min; an ETL job and a compaction every minute`);
    const load = runLoad({
      url: platform.urls.gateway,
      rate: options.rate,
      durationSeconds: options.minutes * 60,
      mix: DEFAULT_MIX,
      faultRate: 0.02,
      progress: (line) => log(line),
      onFailure: (failure) => {
        failed.count++;
        if (failures.length < MAX_FAILURES) failures.push(failure);
      },
    }).finally(() => stopping.abort());
    const minutely = everyMinute(platform.urls.etl, jobs, stopping.signal);
    const timeline = minuteTimeline(pids, failed, stopping.signal);
    const loadStart = Date.now();
    const series = rssSeries(pids, stopping.signal);
    await sleep(warmupMs);
    const warm = rssOf(pids);
    const warmParts = partsOf(pids);
    const backendsWarm = await backendCost(bench, pids);
    log(`after the warm-up (${warmupMs / 1000} s): ${formatRss(warm)}`);
    const warmHeap = await heapView(bench.stack.config.prometheus.port);
    const report = await load;
    const backends = perTenThousandSpans(backendsWarm, await backendCost(bench, pids));
    await printCauses(failures, report.serverErrors, logDir);
    await minutely;
    printTimeline(await timeline);
    const end = rssOf(pids);
    log(`at the end: ${formatRss(end)}`);
    const windows = { ...rssWindows(await series, loadStart, warmupMs, options.minutes * 60_000), last: end };
    log(
      `RSS medians, ${windows.minutes} min after the warm-up → the last ${windows.minutes} min of the load: ${[
        ...windows.warm,
      ]
        .map(([name, mib]) => `${name} ${mib.toFixed(0)} → ${(windows.end.get(name) ?? NaN).toFixed(0)}`)
        .join(', ')}`,
    );
    printMemory(warm, end, warmHeap, await heapView(bench.stack.config.prometheus.port));
    printResidentParts(warmParts, partsOf(pids));
    // Events reach the raw zone through the Collector's queue (flushed every second): a last compaction takes all.
    await sleep(5000);
    await runJob(platform.urls.etl, { kind: 'compaction' }, jobs);
    const ids = await eventIds(bench);
    return [...soakFigures(report, jobs, ids, windows), ...backendFigures(backends)];
  } finally {
    await platform.stop();
  }
}

/** The unexpected server errors by cause (route, status, where it began, the error there), with a trace ID each. */
async function printCauses(failures: Failure[], total: number, logDir: string): Promise<void> {
  if (failures.length === 0) return;
  const ids = new Set(failures.flatMap((f) => (f.traceId ? [f.traceId] : [])));
  const lines = await errorLinesByTrace(logDir, ids);
  const groups = groupCauses(
    failures.map((f) => ({ cause: causeOf(f, f.traceId ? lines.get(f.traceId) : []), traceId: f.traceId })),
  );
  const rows = groups.map(({ cause, count, traceId }) => [
    String(count),
    cause.route,
    cause.status === 0 ? 'none' : String(cause.status),
    cause.origin,
    cause.error.length > 120 ? `${cause.error.slice(0, 119)}…` : cause.error,
    traceId ?? '—',
  ]);
  const kept = failures.length < total ? ` (the first ${failures.length} of ${total})` : '';
  process.stdout.write(
    `\nServer errors not asked for, by cause${kept}:\n${formatTable(
      [['count', 'route', 'status', 'began in', 'error there', 'a trace ID'], ...rows],
      { right: [0] },
    ).join('\n')}\n`,
  );
}

/** Jaeger's and the Collector's CPU time and the spans Jaeger accepted, at one moment. */
interface BackendSample {
  spans: number;
  jaegerCpuMs: number;
  collectorCpuMs: number;
  seconds: number;
}

async function backendCost(bench: IsolatedStack, pids: Map<string, number>): Promise<BackendSample> {
  const text = await (await fetch(`http://127.0.0.1:${bench.stack.config.jaeger.metrics}/metrics`)).text();
  return {
    // Jaeger names its counters with the `_total` suffix, the Collector's own telemetry without it.
    spans: ['otelcol_receiver_accepted_spans', 'otelcol_receiver_accepted_spans_total']
      .flatMap((name) => promSamples(text, name))
      .reduce((sum, s) => sum + s.value, 0),
    jaegerCpuMs: cpuMs(pids.get('jaeger') ?? 0),
    collectorCpuMs: cpuMs(pids.get('collector') ?? 0),
    seconds: performance.now() / 1000,
  };
}

/** Cores per 10 000 spans/s between two samples: CPU seconds ÷ spans × 10 000, and the span rate. */
function perTenThousandSpans(a: BackendSample, b: BackendSample) {
  const spans = b.spans - a.spans;
  const per = (ms: number) => (spans > 0 ? (ms / 1000 / spans) * 10_000 : NaN);
  const result = {
    rate: spans / (b.seconds - a.seconds),
    jaeger: per(b.jaegerCpuMs - a.jaegerCpuMs),
    collector: per(b.collectorCpuMs - a.collectorCpuMs),
  };
  log(
    `after the warm-up: ${result.rate.toFixed(0)} spans/s into Jaeger; core per 10 000 spans/s: Jaeger ` +
      `${result.jaeger.toFixed(3)}, Collector ${result.collector.toFixed(3)}`,
  );
  return result;
}

/**
 * The demo load's spans, as issue 25's targets count them: cores per 10 000 spans/s (all the Collector's pipelines).
 * At the demo's few hundred spans/s the fixed costs (timers, metrics, scrapes, idle collections) weigh on every span:
 * not comparable with the bursts of bench/collector.ts and bench/jaeger.ts.
 */
function backendFigures(cost: ReturnType<typeof perTenThousandSpans>): Figure[] {
  const what = `under the demo load (${cost.rate.toFixed(0)} spans/s), core per 10 000 spans/s`;
  return [
    {
      id: 'soak.jaeger.cpu',
      figure: `Soak: Jaeger CPU ${what}`,
      ours: cost.jaeger,
      unit: 'core',
      target: 0.5,
      better: 'lower',
    },
    {
      id: 'soak.collector.cpu',
      figure: `Soak: Collector CPU (traces, metrics, logs) ${what}`,
      ours: cost.collector,
      unit: 'core',
      better: 'lower',
    },
  ];
}

/** One minute of the run: the unexpected server errors in it, beside what the machine did meanwhile. */
interface Minute {
  minute: number;
  failures: number;
  /** The 1-minute load average at the minute's end. */
  load: number;
  /** The machine's busy share of all its cores, and the measured processes' share (the sandboxes not counted). */
  machineBusy: number;
  ours: number;
  catalog: number;
  jaeger: number;
  collector: number;
  /** The local S3 store's share: its listings' cost follows what it is asked to read (runs 16 and 17). */
  s3: number;
  /** The services' and the listener's RSS at the minute's end, MiB: when it grew, beside the load and errors. */
  rss: Map<string, number>;
}

/** The platform's processes, whose RSS the minute table follows. */
const PLATFORM = ['etl-listener', 'catalog', 'downloads', 'users', 'gateway'];

/**
 * Each minute's unexpected server errors beside the machine's load: whether they come with the machine saturated by
 * other work (busy near 100 % while our processes use a small share), or with our own processes busy.
 */
async function minuteTimeline(
  pids: Map<string, number>,
  failed: { count: number },
  signal: AbortSignal,
): Promise<Minute[]> {
  const minutes: Minute[] = [];
  const ourCpu = () => [...pids.values()].reduce((sum, pid) => sum + cpuMs(pid), 0);
  const sample = (failedSoFar: number) => ({
    machine: machineCpuMs(),
    ours: ourCpu(),
    catalog: cpuMs(pids.get('catalog') ?? 0),
    jaeger: cpuMs(pids.get('jaeger') ?? 0),
    collector: cpuMs(pids.get('collector') ?? 0),
    s3: cpuMs(pids.get('s3') ?? 0),
    failed: failedSoFar,
  });
  let before = sample(0);
  while (!signal.aborted) {
    await sleep(60_000, signal);
    const now = sample(failed.count);
    const total = now.machine.total - before.machine.total;
    if (total <= 0) break;
    minutes.push({
      minute: minutes.length + 1,
      failures: now.failed - before.failed,
      load: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
      machineBusy: (now.machine.busy - before.machine.busy) / total,
      ours: (now.ours - before.ours) / total,
      catalog: (now.catalog - before.catalog) / total,
      jaeger: (now.jaeger - before.jaeger) / total,
      collector: (now.collector - before.collector) / total,
      s3: (now.s3 - before.s3) / total,
      rss: new Map(PLATFORM.map((name) => [name, statusMiB(pids.get(name) ?? 0, 'VmRSS') ?? NaN])),
    });
    before = now;
  }
  return minutes;
}

function printTimeline(minutes: Minute[]): void {
  const percent = (share: number) => `${(100 * share).toFixed(0)} %`;
  const rows = minutes.map((m) => [
    String(m.minute),
    String(m.failures),
    m.load.toFixed(1),
    percent(m.machineBusy),
    percent(m.ours),
    percent(m.catalog),
    percent(m.jaeger),
    percent(m.collector),
    percent(m.s3),
    ...PLATFORM.map((name) => (m.rss.get(name) ?? NaN).toFixed(0)),
  ]);
  const header = [
    'minute',
    'server errors not asked for',
    'load average',
    'machine busy',
    'ours',
    'catalog',
    'jaeger',
    'collector',
    's3 store',
    ...PLATFORM.map((name) => `${name} RSS MiB`),
  ];
  // Every column is a number: all right-aligned.
  process.stdout.write(
    `\nMinute by minute (CPU as a share of all cores; "ours": the services, the listener and the stack):\n${formatTable(
      [header, ...rows],
      { right: header.map((_, i) => i) },
    ).join('\n')}\n`,
  );
}

/**
 * What RSS alone does not tell: each Node process's V8 heap as its runtime metrics say — the heap V8 holds from the
 * system (it grows lazily and gives back little) and the live objects (the lowest heap used over two minutes of
 * 5-second samples: just after a garbage collection) — and the size of Prometheus's in-memory head.
 */
interface HeapView {
  physical: Map<string, number>;
  live: Map<string, number>;
  headSeries: number;
  headChunks: number;
}

async function heapView(prometheusPort: number): Promise<HeapView> {
  const base = `http://127.0.0.1:${prometheusPort}/api/v1`;
  const byJob = async (query: string) => {
    const body = (await (await fetch(`${base}/query?query=${encodeURIComponent(query)}`)).json()) as {
      data?: { result?: { metric: { job?: string }; value: [number, string] }[] };
    };
    return new Map(
      (body.data?.result ?? []).map((r) => [
        (r.metric.job ?? '?').replace(/^observatory\//, ''),
        Number(r.value[1]) / 2 ** 20,
      ]),
    );
  };
  try {
    const tsdb = (await (await fetch(`${base}/status/tsdb`)).json()) as {
      data?: { headStats?: { numSeries?: number; chunkCount?: number } };
    };
    return {
      physical: await byJob('sum by (job) (v8js_memory_heap_space_physical_size_bytes)'),
      live: await byJob('min_over_time((sum by (job) (v8js_memory_heap_used_bytes))[2m:5s])'),
      headSeries: tsdb.data?.headStats?.numSeries ?? NaN,
      headChunks: tsdb.data?.headStats?.chunkCount ?? NaN,
    };
  } catch (error) {
    log(`Prometheus did not answer: ${(error as Error).message}`);
    return { physical: new Map(), live: new Map(), headSeries: NaN, headChunks: NaN };
  }
}

function printMemory(
  warm: Map<string, number>,
  end: Map<string, number>,
  before: HeapView,
  after: HeapView,
): void {
  const pair = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? '—' : `${a.toFixed(0)} → ${b.toFixed(0)} (${(b / a).toFixed(2)}×)`;
  const rows = [...warm.keys()].map((name) => [
    name,
    pair(warm.get(name), end.get(name)),
    pair(before.physical.get(name), after.physical.get(name)),
    pair(before.live.get(name), after.live.get(name)),
  ]);
  process.stdout.write(
    `\nMemory after the warm-up → at the end, MiB (V8 heap from the runtime metrics; live: the lowest heap used in two minutes):\n${formatTable(
      [['process', 'RSS', 'V8 heap held', 'V8 heap live'], ...rows],
    ).join(
      '\n',
    )}\nPrometheus head: ${before.headSeries} → ${after.headSeries} series, ${before.headChunks} → ${after.headChunks} chunks\n`,
  );
}

/** The long-lived processes measured: the platform's and the stack's, by name. */
async function processes(bench: IsolatedStack, platform: Platform): Promise<Map<string, number>> {
  const measured = new Map<string, number>(
    platform.pids.map((pid, i) => [PLATFORM[i] ?? `service-${i}`, pid]),
  );
  for (const [name, pid] of Object.entries(await stackPids(bench.stack))) measured.set(name, pid);
  return measured;
}

/** How long each of the two RSS windows lasts (shorter in a short run: a third of the time after the warm-up). */
const RSS_WINDOW_MS = 180_000;
const RSS_SAMPLE_MS = 15_000;

interface RssSample {
  at: number;
  rss: Map<string, number>;
}

/** Every process's RSS every 15 s until `signal` (the load's end). */
async function rssSeries(pids: Map<string, number>, signal: AbortSignal): Promise<RssSample[]> {
  const samples: RssSample[] = [];
  while (!signal.aborted) {
    samples.push({ at: Date.now(), rss: rssOf(pids) });
    await sleep(RSS_SAMPLE_MS, signal);
  }
  return samples;
}

interface RssWindows {
  minutes: number;
  /** Each process's median RSS over the window that starts at the warm-up's end, MiB. */
  warm: Map<string, number>;
  /** The same over the window that ends with the load. */
  end: Map<string, number>;
  /** The last single reading (a store bounded by design is held to its bound by it, not by a median). */
  last?: Map<string, number>;
}

function rssWindows(samples: RssSample[], loadStart: number, warmupMs: number, loadMs: number): RssWindows {
  const windowMs = Math.min(RSS_WINDOW_MS, (loadMs - warmupMs) / 3);
  const within = (from: number, to: number) =>
    samples.filter((s) => s.at - loadStart >= from && s.at - loadStart <= to);
  const medianOf = (window: RssSample[]) =>
    new Map(
      [...(window[0]?.rss.keys() ?? [])].map((name) => [
        name,
        median(window.map((s) => s.rss.get(name) ?? NaN).filter((v) => !Number.isNaN(v))),
      ]),
    );
  return {
    minutes: Math.round(windowMs / 6_000) / 10,
    warm: medianOf(within(warmupMs, warmupMs + windowMs)),
    end: medianOf(within(loadMs - windowMs, loadMs + RSS_SAMPLE_MS)),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function rssOf(pids: Map<string, number>): Map<string, number> {
  return new Map([...pids].map(([name, pid]) => [name, statusMiB(pid, 'VmRSS') ?? NaN]));
}

function partsOf(pids: Map<string, number>): Map<string, ResidentParts | undefined> {
  return new Map([...pids].map(([name, pid]) => [name, residentParts(pid)]));
}

/**
 * Where each process's RSS grew (bench/lib/proc.ts residentParts): glibc's main heap and other arenas — native
 * allocations: sockets, buffers, the HTTP parser — against V8's heap pages (beside the V8 heap it reports, the
 * difference is its page pool), the other anonymous mappings and mapped files.
 */
function printResidentParts(
  warm: Map<string, ResidentParts | undefined>,
  end: Map<string, ResidentParts | undefined>,
): void {
  const keys = ['brk', 'arenas', 'v8Pages', 'anon', 'file'] as const;
  const rows = [...warm.keys()].map((name) => [
    name,
    ...keys.map((key) => {
      const [a, b] = [warm.get(name)?.[key], end.get(name)?.[key]];
      return a === undefined || b === undefined ? '—' : `${a.toFixed(0)} → ${b.toFixed(0)}`;
    }),
  ]);
  process.stdout.write(
    `\nResident memory by mapping after the warm-up → at the end, MiB (brk: glibc's main heap; arenas: its other arenas; v8Pages: V8's 256 KiB heap pages, in use or pooled; anon: other anonymous mappings; file: mapped files):\n${formatTable(
      [['process', ...keys], ...rows],
    ).join('\n')}\n`,
  );
}

const formatRss = (rss: Map<string, number>) =>
  [...rss].map(([name, mib]) => `${name} ${mib.toFixed(0)} MiB`).join(', ');

/** An ETL job and a compaction of every signal, once a minute, each awaited, until `signal` aborts. */
async function everyMinute(etl: string, jobs: JobTally, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const next = Date.now() + 60_000;
    await Promise.all([
      runJob(etl, { kind: 'crop_stats', bbox: [5, 45, 10, 50], from: '2026-06-01', to: '2026-06-02' }, jobs),
      runJob(etl, { kind: 'compaction' }, jobs),
    ]);
    await sleep(Math.max(0, next - Date.now()), signal);
  }
}

/** Submits one job and waits for its end; counts it, its failure and its dead letters. */
async function runJob(etl: string, spec: Record<string, unknown>, jobs: JobTally): Promise<void> {
  jobs.submitted++;
  try {
    const response = await fetch(`${etl}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    });
    if (response.status !== 202)
      throw new Error(`${String(spec.kind)}: the listener answered ${response.status}`);
    const { id } = (await response.json()) as { id: string };
    const job = await pollUntil(
      `${String(spec.kind)} job ${id} to finish`,
      async () => {
        const view = (await (await fetch(`${etl}/jobs/${id}`)).json()) as JobView;
        return view.status !== 'queued' && view.status !== 'running' ? view : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 1000 },
    );
    jobs.deadLettered += job.dead_letters.length;
    if (job.status === 'done') jobs.done++;
    else jobs.failed.push(`${String(spec.kind)} job ${id} ended ${job.status}`);
  } catch (error) {
    jobs.failed.push((error as Error).message);
  }
}

/** Event IDs of the raw zone, and how often each is in the curated lake (events and rejected tables). */
async function eventIds(bench: IsolatedStack): Promise<{ raw: number; missing: number; duplicated: number }> {
  const config: LakeConfig = lakeConfig({
    ...bench.env,
    OBSERVATORY_LAKE_CACHE_DIR: join(bench.stateDir, 'lake-cache'),
  });
  const store = S3Store.fromSettings(config.s3);
  const raw = new Set<string>();
  // The raw zone as it is now; then, of it, the objects that arrived after the last compaction was planned (its own
  // job events among them), which are left out. In this order, an object arriving between the two listings is in
  // neither (listed the other way round, it was counted as raw and not late: a missing ID that was not).
  const objects = await store.list(config.raw.events);
  const late = new Set(await unprocessedKeys(store, config, ['events']));
  for (const object of objects) {
    if (late.has(object.key)) continue;
    const body = await store.get(object.key);
    const text = (object.key.endsWith('.gz') ? gunzipSync(body) : body).toString('utf8');
    for (const resource of parseOtlpLogs(text, object.key).resourceLogs ?? [])
      for (const scope of resource.scopeLogs ?? [])
        for (const record of scope.logRecords ?? []) {
          const id = record.attributes?.find((a) => a.key === EVENT_ATTRIBUTES.id)?.value?.stringValue;
          if (id) raw.add(id);
        }
  }
  const curated = new Map<string, number>();
  for (const table of ['events', 'rejected'] as const) {
    const result = await queryLake(`SELECT event_id, count(*) AS n FROM ${table} GROUP BY 1`, {
      config,
      tables: [table],
    });
    for (const row of result.rows)
      curated.set(String(row.event_id), (curated.get(String(row.event_id)) ?? 0) + Number(row.n));
  }
  const missing = [...raw].filter((id) => !curated.has(id)).length;
  const duplicated = [...curated.values()].filter((n) => n > 1).length;
  log(
    `event IDs: ${raw.size} in raw/events/, ${curated.size} in curated; ${missing} missing, ${duplicated} twice or more`,
  );
  return { raw: raw.size, missing, duplicated };
}

function soakFigures(
  report: LoadReport,
  jobs: JobTally,
  ids: { raw: number; missing: number; duplicated: number },
  rss: RssWindows,
): Figure[] {
  const { warm, end } = rss;
  const medians = `medians of ${rss.minutes} min`;
  for (const failure of jobs.failed) log(`job failed: ${failure}`);
  const figures: Figure[] = [
    {
      id: 'soak.requests',
      figure: 'Soak: requests sent',
      ours: report.sent,
      unit: 'requests',
      better: 'higher',
    },
    {
      id: 'soak.5xx',
      figure: `Soak: server errors other than the ${report.injected} injected faults`,
      ours: report.serverErrors,
      unit: 'requests',
      target: 0,
      better: 'lower',
    },
    {
      id: 'soak.jobs',
      figure: `Soak: ETL jobs and compactions not done (of ${jobs.submitted})`,
      ours: jobs.failed.length,
      unit: 'jobs',
      target: 0,
      better: 'lower',
    },
    {
      id: 'soak.dead-lettered',
      figure: 'Soak: chunks dead-lettered',
      ours: jobs.deadLettered,
      unit: 'chunks',
      target: 0,
      better: 'lower',
    },
    {
      id: 'soak.events.missing',
      figure: `Soak: event IDs of the raw zone (${ids.raw}) not in curated`,
      ours: ids.missing,
      unit: 'IDs',
      target: 0,
      better: 'lower',
    },
    {
      id: 'soak.events.duplicated',
      figure: 'Soak: event IDs in curated more than once',
      ours: ids.duplicated,
      unit: 'IDs',
      target: 0,
      better: 'lower',
    },
  ];
  for (const [name, before] of warm) {
    const after = end.get(name) ?? NaN;
    const bound = BOUNDED_BY_DESIGN[name];
    if (bound) {
      figures.push({
        id: `soak.rss.${name}`,
        figure: `Soak: RSS of ${name} at the end (${bound.why}; against the median after warm-up)`,
        ours: rss.last?.get(name) ?? after,
        baseline: before,
        baselineName: 'after warm-up',
        unit: 'MiB',
        target: bound.targetMb,
        better: 'lower',
      });
      continue;
    }
    figures.push({
      id: `soak.rss.${name}`,
      figure: `Soak: RSS of ${name}, end against after warm-up (${medians})`,
      ours: after,
      baseline: before,
      baselineName: 'after warm-up',
      unit: 'MiB',
      target: 1.1,
      targetIsRatio: true,
      better: 'lower',
    });
  }
  return figures;
}

/**
 * Stores that grow by design until a bound, judged by the bound rather than by growth: Jaeger's ring of traces (issue
 * 25: ≤ 300 MiB whatever it holds) and Prometheus's head block, which holds two hours of samples before it is cut.
 */
const BOUNDED_BY_DESIGN: Record<string, { why: string; targetMb?: number }> = {
  jaeger: { why: 'its newest traces, a bounded ring', targetMb: 300 },
  prometheus: { why: 'its head block grows for two hours, then is cut' },
};

/**
 * `observatory demo` on the bench stack, its compaction's first chunk hanging: SIGINT once the job runs, and the
 * seconds until the demo has exited (it stops its services first).
 */
async function stopFigure(bench: IsolatedStack, base: number): Promise<Figure> {
  const { demo, ports } = spawnDemoCli(bench, base, ['--duration', '3', '--rate', '5'], {
    OBSERVATORY_DEMO_COMPACTION_FAULT: 'hang',
    OBSERVATORY_ETL_ALLOW_FAULTS: 'true',
  });
  let stderr = '';
  // The whole stderr: the submission's line is matched in it, and a failure quotes its end.
  demo.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => demo.once('exit', () => resolve()));
  try {
    const id = await pollUntil(
      'the demo to submit its compaction job',
      async () => /demo: compaction job (\S+) submitted/.exec(stderr)?.[1],
      { timeoutMs: 180_000 },
    );
    await pollUntil(`compaction job ${id} to run`, async () => {
      const job = (await (await fetch(`http://127.0.0.1:${ports.etl}/jobs/${id}`)).json()) as JobView;
      // Its first chunk in a sandbox, hanging (the fault): the stop has a compaction to cut short.
      return job.status === 'running' && job.chunks.in_flight > 0 ? true : undefined;
    });
    const sent = performance.now();
    demo.kill('SIGINT');
    await exited;
    const seconds = (performance.now() - sent) / 1000;
    log(`the demo stopped ${seconds.toFixed(1)} s after SIGINT, during a compaction`);
    return {
      id: 'soak.demo-stop',
      figure: 'observatory demo: SIGINT during a compaction → exited',
      ours: seconds,
      unit: 's',
      target: 5,
      better: 'lower',
    };
  } catch (error) {
    // SIGTERM, not SIGKILL: the demo stops the services it started.
    demo.kill('SIGTERM');
    await Promise.race([exited, sleep(60_000)]);
    // What the demo said last tells where it was (its warm-up, the first look, the traces' wait, …).
    log(`the stop figure failed; the demo's last output:\n${stderr.slice(-3000)}`);
    return failedFigure('soak.demo-stop', 'observatory demo: SIGINT during a compaction → exited', error);
  }
}

if (import.meta.main) await cli();
