/**
 * The serverless ETL against the real stack: one job is one trace, retries are their own invocation spans, poison
 * chunks are dead-lettered, a killed sandbox's chunk is retried, the timeout is enforced, cold and warm starts are
 * told apart, and every acknowledged invocation's telemetry is already in the backends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryLake } from '../../lake/index.ts';
import { resultKey } from '../../etl/handlers/crop-stats.ts';
import { findObjectContaining, promQuery, readObject, tag } from '../support/backends.ts';
import { pollUntil } from '../support/poll.ts';
import { invocations, jobTrace, producers, startListener, type TestListener } from '../support/etl.ts';
import { find, tree } from '../support/trace-tree.ts';

let listener: TestListener;
const runJob = (spec: Record<string, unknown>) => listener.runJob(spec);

beforeAll(async () => {
  listener = await startListener({
    OBSERVATORY_ETL_CONCURRENCY: '2',
    OBSERVATORY_ETL_TIMEOUT_MS: '4000',
    OBSERVATORY_ETL_RETRY_BASE_MS: '50',
  });
});

afterAll(async () => {
  await listener?.stop();
});

describe('An ETL job', () => {
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
      expect(tag(invocation!.span, 'faas.invocation_id')).toMatch(/^[0-9a-f-]{36}$/);
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
    await runJob({ bbox: [20, 55, 25, 60], from: '2026-06-13', to: '2026-06-14' });
    const spans: { pid: unknown; start: number; cold: unknown }[] = [];
    for (const job of listener.ran) {
      const trace = await jobTrace(job);
      for (const span of trace.spans.filter((s) => s.operationName === 'crop_stats invoke')) {
        const pid = trace.processes[span.processID]!.tags.find((t) => t.key === 'process.pid')?.value;
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
    // Every sandbox's cold start is counted in Prometheus too.
    const coldCount = await pollUntil(`etl_coldstarts_total ≥ ${bySandbox.size} in Prometheus`, async () => {
      const samples = await promQuery('sum(etl_coldstarts_total{job="observatory/etl-listener"})');
      const count = samples.length ? Number(samples[0]!.value[1]) : 0;
      return count >= bySandbox.size ? count : undefined;
    });
    expect(coldCount).toBeGreaterThanOrEqual(bySandbox.size);
  });

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

  it('reports cost and chunk metrics to Prometheus', async () => {
    const samples = await pollUntil('etl_cost_usd_total for both cost models', async () => {
      const result = await promQuery('sum by (cost_model) (etl_cost_usd_total)');
      return result.length === 2 ? result : undefined;
    });
    expect(samples.map((s) => s.metric.cost_model).sort()).toEqual(['always_on', 'serverless']);
    const outcomes = await promQuery('sum by (outcome) (etl_chunks_total)');
    expect(outcomes.map((s) => s.metric.outcome)).toEqual(
      expect.arrayContaining(['processed', 'failed', 'retried', 'dead_lettered']),
    );
  });

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
});
