/**
 * The ETL listener: the jobs API in front of the worker fleet.
 *   POST /jobs {bbox: [w,s,e,n], from, to, trace?}   → 202 {id, status, chunks, trace_id}
 *   GET  /jobs/:id                                   → status, progress, cost, dead letters (finished jobs leave
 *                                                      memory after OBSERVATORY_ETL_JOB_TTL_MS; then from the store)
 * A job the fleet's queue has no room for gets 429 with Retry-After.
 *   GET  /fleet                                      → sandboxes running / warm / waiting per function
 * A crop-statistics job ({kind: 'crop_stats'}, the default) has one chunk per catalog tile intersecting the area,
 * per day of the range; a compaction job ({kind: 'compaction', batch_size, signals?}) one chunk per signal and arrival
 * hour (at most batch_size raw objects each) not compacted yet.
 */
import { context, propagation } from '@opentelemetry/api';
import { logger, shutdown } from '../../instrumentation/api.ts';
import { createApp, finishApp, listen, route } from '../../common/http/app.ts';
import { invalid, notFound, tooBusy } from '../../common/http/errors.ts';
import { bbox, intersects, tiles } from '../../imagery/scenes.ts';
import { S3Store } from '../../common/s3-store.ts';
import { dateRange, numberIn, objectBody, oneOf } from '../../common/http/validate.ts';
import { lakeConfig, LAKE_SIGNALS, type LakeSignal } from '../../lake/config.ts';
import type { CompactionPayload } from '../handlers/compaction.ts';
import { etlConfig } from '../config.ts';
import { LocalFleetDispatcher, type Dispatcher } from '../dispatch.ts';
import type { SqsEventSource } from '../sqs/sqs-event-source.ts';
import type { CropStatsPayload } from '../handlers/crop-stats.ts';
import type { Fault } from '../types.ts';
import { FleetBusyError, JobRunner, type ChunkPlan, type JobView } from './jobs.ts';

const config = etlConfig();
// The sandboxes inherit this environment, and with it the same S3 settings.
const fleet = new LocalFleetDispatcher(config, { ...process.env, OTEL_SERVICE_NAME: 'etl-worker' });
// With SQS dispatch the listener only enqueues; against a local queue server it also plays Lambda's event source,
// feeding the same sandboxes from the queue, unless OBSERVATORY_ETL_LOCAL_CONSUMER=false leaves it to another consumer.
// On AWS (OBSERVATORY_SQS_ENDPOINT=aws) Lambda consumes the queue.
let dispatcher: Dispatcher = fleet;
let eventSource: SqsEventSource | undefined;
if (config.dispatch === 'sqs') {
  // Loaded only with SQS dispatch: the SQS client is memory the fleet path never uses.
  const [{ ensureQueues, sqsClient }, { SqsDispatcher }, { SqsEventSource }] = await Promise.all([
    import('../sqs/queues.ts'),
    import('../sqs/sqs-dispatcher.ts'),
    import('../sqs/sqs-event-source.ts'),
  ]);
  const client = sqsClient(config.sqs);
  const urls = await ensureQueues(client, config.sqs, config.maxAttempts);
  dispatcher = new SqsDispatcher(client, urls, {
    deadlineMs: urls.visibilityTimeoutSeconds * 1000 * config.maxAttempts,
    maxPending: config.maxWaiting,
  });
  if (config.sqs.endpoint !== undefined && config.sqs.localConsumer) {
    eventSource = new SqsEventSource(client, urls, fleet, config);
    eventSource.start();
  }
}
// One store and one lake config for the process: jobs, their results and compaction planning share them.
const store = S3Store.fromSettings(config.s3);
const lake = lakeConfig();
const runner = new JobRunner(config, dispatcher, store);
const app = createApp({ name: 'etl-listener', logger, bodyLimit: config.bodyLimit });

app.post(
  '/jobs',
  route(async (req, res) => {
    const body = objectBody(req.body);
    const kind = oneOf(body.kind, 'kind', ['crop_stats', 'compaction'] as const, 'crop_stats');
    // Faults (for tests and the demo's stop test) are checked before any planning: a bad one changes nothing.
    const faults = parseFault(body.fault);
    // The job continues the caller's trace: from the payload when it carries one, else from the HTTP headers.
    const carrier = (typeof body.trace === 'object' && body.trace !== null ? body.trace : {}) as Record<
      string,
      string
    >;
    const parent = carrier.traceparent ? propagation.extract(context.active(), carrier) : context.active();
    if (kind === 'compaction') {
      const batch = numberIn(body.batch_size, 'batch_size', 1, 1000, 25);
      const signals = parseSignals(body.signals);
      // Planning alone: lake/plan.ts lists and reads markers, never loading DuckDB (tens of MiB resident) here.
      const { planCompaction } = await import('../../lake/plan.ts');
      const plan = await planCompaction(store, lake, batch, signals);
      const chunks: ChunkPlan<CompactionPayload>[] = plan.map((payload) => ({ payload }));
      withFaults(chunks, faults);
      res.status(202).json(submit('compaction', chunks, parent));
      return;
    }
    const area = bbox(body.bbox);
    const range = dateRange(body.from, body.to, 366);
    const covered = tiles().filter((tile) => intersects(tile.bbox, area));
    if (covered.length === 0)
      throw invalid('bbox', 'the area covers no tile of the catalog (0–25°E, 40–60°N)');
    const count = covered.length * range.days.length;
    if (count > config.maxChunks) {
      throw invalid(
        'bbox',
        `the job would have ${count} chunks (tiles × days); at most ${config.maxChunks} are allowed: shrink the area or the date range`,
      );
    }
    const chunks: ChunkPlan<CropStatsPayload>[] = covered.flatMap((tile) =>
      range.days.map((date) => ({ payload: { tile, date } })),
    );
    withFaults(chunks, faults);
    res.status(202).json(submit('crop_stats', chunks, parent));
  }),
);

app.get(
  '/jobs/:id',
  route(async (req, res) => {
    const job = await runner.find(String(req.params.id));
    if (!job) throw notFound(`job ${req.params.id}`);
    res.json(job);
  }),
);

app.get('/fleet', (_req, res) => {
  res.json(fleet.stats());
});

function parseSignals(value: unknown): readonly LakeSignal[] {
  if (value === undefined) return LAKE_SIGNALS;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((s) => LAKE_SIGNALS.includes(s as LakeSignal))
  ) {
    throw invalid('signals', `expected a non-empty array of ${LAKE_SIGNALS.join(', ')}`);
  }
  return value as LakeSignal[];
}

/** A job the fleet has no room for is refused whole, with when to come back: 429 and Retry-After. */
function submit(...args: Parameters<JobRunner['submit']>): JobView {
  try {
    return runner.submit(...args);
  } catch (error) {
    if (error instanceof FleetBusyError) throw tooBusy(error.message, error.retryAfterSeconds);
    throw error;
  }
}

/** Gives the chunks the faults the job's `fault` field named (chunk indexes past the job's last are ignored). */
function withFaults(chunks: ChunkPlan<unknown>[], faults: { chunks: number[]; fault: Fault }[]): void {
  for (const { chunks: indexes, fault } of faults)
    for (const index of indexes) if (chunks[index]) chunks[index]!.fault = fault;
}

/** `fault`: one spec or a list of them (different faults on different chunks of one job). */
function parseFault(value: unknown): { chunks: number[]; fault: Fault }[] {
  if (value === undefined) return [];
  if (!config.allowFaults)
    throw invalid('fault', 'faults are not accepted here (OBSERVATORY_ETL_ALLOW_FAULTS is off)');
  const specs = Array.isArray(value) ? value : [value];
  return specs.map((spec, i) => parseFaultSpec(spec, Array.isArray(value) ? `fault[${i}]` : 'fault'));
}

function parseFaultSpec(value: unknown, field: string): { chunks: number[]; fault: Fault } {
  const spec = objectBody(value) as { chunks?: unknown; kind?: unknown; attempts?: unknown };
  if (!Array.isArray(spec.chunks) || !spec.chunks.every((i) => Number.isInteger(i) && i >= 0)) {
    throw invalid(`${field}.chunks`, 'expected an array of chunk indexes');
  }
  if (spec.kind !== 'throw' && spec.kind !== 'hang' && spec.kind !== 'crash') {
    throw invalid(`${field}.kind`, 'expected throw, hang or crash');
  }
  if (!Number.isInteger(spec.attempts) || (spec.attempts as number) < 1) {
    throw invalid(`${field}.attempts`, 'expected a whole number of attempts ≥ 1');
  }
  return { chunks: spec.chunks as number[], fault: { kind: spec.kind, attempts: spec.attempts as number } };
}

finishApp(app);
const server = await listen(app, config.port, config.listenHost);

// Graceful shutdown: stop taking jobs, stop the sandboxes (each flushes its telemetry), then exit.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    void Promise.resolve(eventSource?.stop())
      .then(() => dispatcher.close())
      .then(() => fleet.close())
      .then(() => shutdown())
      .finally(() => process.exit(0));
  });
}
