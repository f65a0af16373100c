/**
 * The serverless ETL against the real stack, one suite run for each dispatch mode: `fleet` (the listener invokes
 * local sandboxes directly) and `sqs` (chunks travel as messages on a real SQS-compatible server, ElasticMQ, with
 * their trace context inside, and the queue does the retrying and the dead-lettering). In both: one job is one trace,
 * retries are their own invocation spans, poison chunks are dead-lettered, a killed sandbox's chunk is retried, the
 * timeout is enforced, cold and warm starts are told apart, and every acknowledged invocation's telemetry is already
 * in the backends. Each mode has its own listener; SQS-only checks (the dead-letter queue) run only there.
 */
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEMCONV } from '../../common/names.ts';
import { queryLake } from '../../lake/index.ts';
import { resultKey } from '../../etl/handlers/crop-stats.ts';
import { etlConfig } from '../../etl/config.ts';
import { sqsClient, type ChunkMessage } from '../../etl/sqs/queues.ts';
import { findObjectContaining, readObject, tag } from '../support/backends.ts';
import { pollUntil } from '../support/poll.ts';
import { invocations, jobTrace, producers, startListener, type TestListener } from '../support/etl.ts';
import { find, tree } from '../support/trace-tree.ts';
import { counterDeltas, counterSnapshot, instanceOf } from '../support/metrics.ts';

// The listener's counters in Prometheus (common/names.ts METRICS), read as deltas of this test's own listener and
// of crop_stats jobs only (compaction jobs count their chunks too).
const LISTENER_JOB = 'job="observatory/etl-listener"';
const CROP_STATS = `${LISTENER_JOB}, etl_job_kind="crop_stats"`;
const COLD_STARTS = 'etl_coldstarts_total';
const CHUNKS = 'etl_chunks_total';
const COST = 'etl_cost_usd_total';

type Mode = 'fleet' | 'sqs';

/** Both modes: two sandboxes at once, a 4 s invocation timeout. */
const COMMON = { OBSERVATORY_ETL_CONCURRENCY: '2', OBSERVATORY_ETL_TIMEOUT_MS: '4000' };

/** Each mode's listener settings; the SQS listener gets queues of its own. */
function listenerEnv(mode: Mode, queue: string): Record<string, string> {
  if (mode === 'fleet') return { ...COMMON, OBSERVATORY_ETL_RETRY_BASE_MS: '50' };
  return {
    ...COMMON,
    OBSERVATORY_ETL_DISPATCH: 'sqs',
    OBSERVATORY_ETL_CHUNK_QUEUE: queue,
    OBSERVATORY_ETL_RESULT_QUEUE: `${queue}-results`,
    // The queue's backoff is a visibility timeout, counted in whole seconds.
    OBSERVATORY_ETL_RETRY_BASE_MS: '200',
  };
}

describe.each<Mode>(['fleet', 'sqs'])('An ETL job dispatched by %s', (mode) => {
  const queue = `etl-chunks-${randomUUID().slice(0, 8)}`;
  let listener: TestListener;
  const runJob = (spec: Record<string, unknown>) => listener.runJob(spec);

  beforeAll(async () => {
    listener = await startListener(listenerEnv(mode, queue));
  });

  afterAll(async () => {
    await listener?.stop();
  });

  it('is one trace: the job span, a producer span per chunk, and each chunk’s invocation as its child', async () => {
    // 2 tiles × 3 days.
    const job = await runJob({ bbox: [0, 40, 10, 45], from: '2026-06-04', to: '2026-06-06' });
    expect(job.status).toBe('done');
    expect(job.chunks).toMatchObject({ total: 6, done: 6, failed: 0, in_flight: 0 });
    const trace = await jobTrace(job);
    const nodes = tree(trace);
    const root = find(nodes, (n) => n.name === 'etl.job crop_stats')[0]!;
    expect(tag(root.span, 'etl.job.id')).toBe(job.id);
    const chunks = producers([root]);
    expect(chunks).toHaveLength(6);
    expect(chunks.map((c) => tag(c.span, 'etl.chunk.index')).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const chunk of chunks) {
      const [invocation, ...more] = invocations(chunk);
      expect(more).toEqual([]);
      expect(invocation!.service).toBe('etl-worker');
      expect(invocation!.kind).toBe('consumer');
      expect(tag(invocation!.span, 'faas.name')).toBe('crop_stats');
      expect(tag(invocation!.span, 'faas.trigger')).toBe('pubsub');
      expect(tag(invocation!.span, SEMCONV.faasInvocationId)).toMatch(/^[0-9a-f-]{36}$/);
      expect(tag(invocation!.span, 'cloud.provider')).toBe('local');
      expect(tag(invocation!.span, 'etl.chunk.index')).toBe(tag(chunk.span, 'etl.chunk.index'));
      expect(tag(invocation!.span, 'etl.chunk.count')).toBe(6);
    }
    const finalizer = find([root], (n) => n.name === 'etl.job finalize')[0]!;
    expect(finalizer.span.references.filter((r) => r.refType === 'FOLLOWS_FROM')).toHaveLength(6);

    // Results land in the lake, one row per chunk.
    const row = JSON.parse(await readObject(resultKey(job.id, 0))) as { n_pixels: number; job_id: string };
    expect(row.job_id).toBe(job.id);
    expect(job.cost!.billed_gb_seconds).toBeGreaterThan(0);
    expect(job.cost!.invocations).toBe(6);
  });

  it('retries a chunk that fails twice, each attempt its own invocation span, and completes', async () => {
    const job = await runJob({
      bbox: [0, 40, 5, 45],
      from: '2026-06-07',
      to: '2026-06-08',
      fault: { chunks: [1], kind: 'throw', attempts: 2 },
    });
    expect(job.status).toBe('done');
    expect(job.chunks).toMatchObject({ total: 2, done: 2, failed: 0, retried: 2 });
    const trace = await jobTrace(job);
    const flaky = producers(tree(trace)).find((c) => tag(c.span, 'etl.chunk.index') === 1)!;
    const attempts = invocations(flaky);
    expect(attempts.map((a) => tag(a.span, 'etl.attempt'))).toEqual([1, 2, 3]);
    expect(attempts.map((a) => tag(a.span, 'error') === true)).toEqual([true, true, false]);
  });

  it('dead-letters a poison chunk, reports the job as partial, and shows the failure in the trace', async () => {
    const job = await runJob({
      bbox: [0, 40, 5, 45],
      from: '2026-06-09',
      to: '2026-06-10',
      fault: { chunks: [0], kind: 'throw', attempts: 99 },
    });
    expect(job.status).toBe('partial');
    expect(job.chunks).toMatchObject({ total: 2, done: 1, failed: 1 });
    expect(job.dead_letters).toEqual([
      { chunk_index: 0, attempts: 3, error: 'Error: injected fault: chunk 0 attempt 3' },
    ]);
    const letter = JSON.parse(await readObject(`etl/dead-letter/job_id=${job.id}/chunk-00000.json`)) as {
      attempts: number;
    };
    expect(letter.attempts).toBe(3);
    const trace = await jobTrace(job);
    const poison = producers(tree(trace)).find((c) => tag(c.span, 'etl.chunk.index') === 0)!;
    expect(tag(poison.span, 'error')).toBe(true);
    expect(invocations(poison)).toHaveLength(3);
    expect(JSON.stringify(poison.span)).toContain('dead_lettered');
  });

  it('retries the chunk of a sandbox killed mid-invocation, and completes', async () => {
    const job = await runJob({
      bbox: [0, 40, 5, 45],
      from: '2026-06-11',
      to: '2026-06-11',
      fault: { chunks: [0], kind: 'crash', attempts: 1 },
    });
    expect(job.status).toBe('done');
    expect(job.chunks).toMatchObject({ total: 1, done: 1, retried: 1 });
    const trace = await jobTrace(job);
    const chunk = producers(tree(trace))[0]!;
    expect(JSON.stringify(chunk.span)).toContain('sandbox exited mid-invocation (SIGKILL)');
  });

  it('enforces the invocation timeout by killing the sandbox, then retries', async () => {
    const job = await runJob({
      bbox: [0, 40, 5, 45],
      from: '2026-06-12',
      to: '2026-06-12',
      fault: { chunks: [0], kind: 'hang', attempts: 1 },
    });
    expect(job.status).toBe('done');
    expect(job.chunks.retried).toBe(1);
    const trace = await jobTrace(job);
    expect(JSON.stringify(producers(tree(trace))[0]!.span)).toContain('invocation timed out after 4000 ms');
  });

  it('reports a cold start on exactly the first invocation of each sandbox', async () => {
    const coldBefore = await counterSnapshot(COLD_STARTS, LISTENER_JOB);
    const latest = await runJob({ bbox: [20, 55, 25, 60], from: '2026-06-13', to: '2026-06-14' });
    const spans: { pid: unknown; start: number; cold: unknown }[] = [];
    for (const job of listener.ran) {
      const trace = await jobTrace(job);
      for (const span of trace.spans.filter((s) => s.operationName === 'crop_stats invoke')) {
        // A sandbox is a process: its service.instance.id (Jaeger's copy leaves process.pid out).
        const pid = trace.processes[span.processID]!.tags.find((t) => t.key === 'service.instance.id')?.value;
        expect(pid).toBeDefined();
        spans.push({ pid, start: span.startTime, cold: tag(span, 'faas.coldstart') });
      }
    }
    const bySandbox = new Map<unknown, { start: number; cold: unknown }[]>();
    for (const span of spans) bySandbox.set(span.pid, [...(bySandbox.get(span.pid) ?? []), span]);
    expect(bySandbox.size).toBeGreaterThanOrEqual(2);
    for (const invocations of bySandbox.values()) {
      const flags = invocations.sort((a, b) => a.start - b.start).map((i) => i.cold);
      expect(flags).toEqual([true, ...flags.slice(1).map(() => false)]);
    }
    // This job's cold starts are counted in Prometheus too: the listener's counter grew by exactly that many.
    const trace = await jobTrace(latest);
    const cold = trace.spans.filter(
      (s) => s.operationName === 'crop_stats invoke' && tag(s, 'faas.coldstart') === true,
    );
    const instance = instanceOf(trace, 'etl-listener');
    const deltas = await counterDeltas(COLD_STARTS, LISTENER_JOB, undefined, instance, coldBefore, {
      '': cold.length,
    });
    expect(deltas).toEqual({ '': cold.length });
  }, 180_000);

  it('has every acknowledged invocation’s spans and log records in the backends already', async () => {
    const job = await runJob({ bbox: [5, 45, 10, 50], from: '2026-06-15', to: '2026-06-16' });
    // Acknowledged means flushed: the worker spans and their S3 child spans are all there at once.
    const trace = await jobTrace(job);
    for (const chunk of producers(tree(trace))) {
      const [invocation] = invocations(chunk);
      expect(invocation!.children.map((c) => c.name)).toContain('S3/PutObject');
    }
    // The business events the workers tracked (log records with an event name) are in the raw zone of the lake.
    const { text } = await findObjectContaining('raw/events/', job.id, 10_000);
    expect(text).toContain('tile_processed');
  });

  it('runs lake compaction as a job: the events its workers tracked become lake rows with the job’s trace ID', async () => {
    const crop = await runJob({ bbox: [10, 50, 15, 55], from: '2026-06-17', to: '2026-06-18' });
    // Every chunk's tile_processed event has reached the raw zone before compaction starts.
    await pollUntil(`both tile_processed events of ${crop.id} in raw/events/`, async () => {
      const { text } = await findObjectContaining('raw/events/', crop.id, 15_000);
      return text.split(crop.id).length - 1 >= 2 ? true : undefined;
    });
    const compaction = await runJob({ kind: 'compaction', batch_size: 50, signals: ['events'] });
    expect(compaction.kind).toBe('compaction');
    expect(compaction.status).toBe('done');
    const result = await queryLake(
      `SELECT trace_id, json_extract_string(properties, '$.tile_id') AS tile FROM events WHERE event_name = 'tile_processed' AND json_extract_string(properties, '$.job_id') = '${crop.id}' ORDER BY tile`,
    );
    expect(result.rows).toEqual([
      { trace_id: crop.trace_id, tile: 'T12' },
      { trace_id: crop.trace_id, tile: 'T12' },
    ]);
  }, 120_000);

  it('reports the chunk outcomes and the cost of its own jobs to Prometheus', async () => {
    const chunksBefore = await counterSnapshot(CHUNKS, CROP_STATS, 'outcome');
    const costBefore = await counterSnapshot(COST, CROP_STATS, 'cost_model');
    // One job with a chunk that fails once, one with a poison chunk: every outcome occurs.
    const jobs = [
      await runJob({
        bbox: [15, 45, 20, 50],
        from: '2026-06-19',
        to: '2026-06-20',
        fault: { chunks: [0], kind: 'throw', attempts: 1 },
      }),
      await runJob({
        bbox: [15, 45, 20, 50],
        from: '2026-06-21',
        to: '2026-06-22',
        fault: { chunks: [1], kind: 'throw', attempts: 99 },
      }),
    ];
    const instance = instanceOf(await jobTrace(jobs[0]!), 'etl-listener');
    const total = (pick: (job: (typeof jobs)[number]) => number) =>
      jobs.reduce((sum, job) => sum + pick(job), 0);
    // Each processed chunk had one successful invocation; every other invocation failed.
    const outcomes = {
      processed: total((job) => job.chunks.done),
      dead_lettered: total((job) => job.chunks.failed),
      retried: total((job) => job.chunks.retried),
      failed: total((job) => job.cost!.invocations - job.chunks.done),
    };
    expect(outcomes.dead_lettered).toBe(1);
    expect(outcomes.retried).toBeGreaterThanOrEqual(3);
    expect(await counterDeltas(CHUNKS, CROP_STATS, 'outcome', instance, chunksBefore, outcomes)).toEqual(
      outcomes,
    );

    // The jobs' views round costs to 9 decimals; the counters hold the unrounded sums.
    const costs = {
      serverless: total((job) => job.cost!.serverless_usd),
      always_on: total((job) => job.cost!.always_on_usd),
    };
    const slack = 1e-9 * jobs.length;
    const costDeltas = await counterDeltas(COST, CROP_STATS, 'cost_model', instance, costBefore, {
      serverless: costs.serverless - slack,
      always_on: costs.always_on - slack,
    });
    expect(costDeltas.serverless).toBeGreaterThan(0);
    expect(Math.abs(costDeltas.serverless! - costs.serverless)).toBeLessThanOrEqual(slack);
    expect(Math.abs(costDeltas.always_on! - costs.always_on)).toBeLessThanOrEqual(slack);
  }, 180_000);

  it('rejects bad job specs with a 400 naming the field', async () => {
    const post = (body: unknown) =>
      fetch(`${listener.url}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const cases: [unknown, string][] = [
      [{ bbox: [5, 40, 5, 45], from: '2026-06-01', to: '2026-06-02' }, 'bbox'],
      [{ bbox: [0, 40, 5, 45], from: '2026-06-05', to: '2026-06-02' }, 'to'],
      [{ bbox: [0, 40, 25, 60], from: '2026-01-01', to: '2026-12-31' }, 'bbox'],
      [{ bbox: [100, 10, 110, 20], from: '2026-06-01', to: '2026-06-02' }, 'bbox'],
      [
        {
          bbox: [0, 40, 5, 45],
          from: '2026-06-01',
          to: '2026-06-02',
          fault: { chunks: [0], kind: 'melt', attempts: 1 },
        },
        'fault.kind',
      ],
    ];
    for (const [body, field] of cases) {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { field: string } }).error.field).toBe(field);
    }
  });

  // SQS only: the queue's own dead-letter queue.
  if (mode === 'sqs') {
    it('dead-letters a poison chunk into the queue’s dead-letter queue and reports the job as partial', async () => {
      const job = await runJob({
        bbox: [0, 40, 5, 45],
        from: '2026-06-23',
        to: '2026-06-24',
        fault: { chunks: [1], kind: 'throw', attempts: 99 },
      });
      expect(job.status).toBe('partial');
      expect(job.dead_letters).toEqual([
        { chunk_index: 1, attempts: 3, error: 'Error: injected fault: chunk 1 attempt 3' },
      ]);
      const settings = { ...etlConfig().sqs, chunkQueue: queue };
      const client = sqsClient(settings);
      const dlq = `${settings.endpoint}/000000000000/${queue}-dlq`;
      const letter = await pollUntil(`the poison chunk of ${job.id} in ${queue}-dlq`, async () => {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        return Messages.map((m) => JSON.parse(m.Body!) as ChunkMessage).find(
          (m) => m.event.job_id === job.id,
        );
      });
      expect(letter.event.chunk_index).toBe(1);
      const [poison] = producers(tree(await jobTrace(job))).filter(
        (c) => tag(c.span, 'etl.chunk.index') === 1,
      );
      expect(invocations(poison!)).toHaveLength(3);
      expect(tag(poison!.span, 'error')).toBe(true);
    });
  }
});
