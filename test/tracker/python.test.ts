/**
 * The Python tracker against the real stack: the seed's snippet, run as written, lands its event in curated
 * `events` carrying the trace ID of the span that was active, and its bad event in `rejected` with the reason; a
 * Python worker handed a job's traceparent joins that job's trace in Jaeger, and `observatory trace` shows its event
 * under its span. The Python processes export over OTLP/HTTP to the stack's Collector, as any Python job would.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { traceCommand } from '../../cli/trace/command.ts';
import { compact, queryLake } from '../../lake/index.ts';
import type { TraceDocument } from '../../trace/index.ts';
import { fetchTrace, stackEndpoints } from '../support/backends.ts';
import { rawKeysForTrace } from '../support/lake.ts';
import { PYTHON, spawnPython } from '../support/python.ts';
import { spawnNode, type RunningApp } from '../support/spawn.ts';

const running: RunningApp[] = [];
afterEach(async () => {
  for (const app of running.splice(0)) await app.stop();
});

/** What a Python job needs to reach the stack: the standard variables, nothing of ours. */
function pythonEnv(): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: stackEndpoints().otlpHttp,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_BLRP_SCHEDULE_DELAY: '200',
  };
}

interface PythonResult {
  completed: boolean;
  events: { accepted: number; rejected: number; dropped: number };
  dropped: number;
}

describe('The Python tracker with the real stack', () => {
  it("lands the seed's snippet's search_made in curated events with the active span's trace ID, and its bad event in rejected", async () => {
    const runId = `python-${randomUUID()}`;
    const app = spawnPython(['test/tracker/fixtures/seed_snippet.py'], {
      ...pythonEnv(),
      OTEL_SERVICE_NAME: 'python-seed',
      OBSERVATORY_SERVICE_VERSION: '3.1.4',
      RUN_ID: runId,
    });
    running.push(app);
    const [, traceId, spanId] = await app.waitForLine(/^TRACE ([0-9a-f]{32}) ([0-9a-f]{16})$/);
    const [, json] = await app.waitForLine(/^RESULT (.*)$/, 30_000);
    const result = JSON.parse(json!) as PythonResult;
    expect(result).toEqual({ completed: true, events: { accepted: 1, rejected: 1, dropped: 0 }, dropped: 0 });

    await compact(await rawKeysForTrace(traceId!, 2));
    const events = await queryLake(
      `SELECT event_name, query, n_results, user_id, trace_id, span_id, schema_version, service_name, service_version,
              deployment_environment, length(event_id) AS id_chars
       FROM events WHERE trace_id = '${traceId}'`,
    );
    expect(events.rows).toEqual([
      {
        event_name: 'search_made',
        query: `ndvi ${runId}`,
        n_results: 3,
        user_id: runId,
        trace_id: traceId,
        span_id: spanId,
        schema_version: '1-0-0',
        service_name: 'python-seed',
        service_version: '3.1.4',
        deployment_environment: 'local',
        id_chars: 36,
      },
    ]);
    const rejected = await queryLake(
      `SELECT event_name, reason, errors, user_id FROM rejected WHERE trace_id = '${traceId}'`,
    );
    expect(rejected.rows).toEqual([
      {
        event_name: 'search_made',
        reason: 'schema_violation',
        errors: JSON.stringify([{ path: '/n_results', message: 'must be >= 0' }]),
        user_id: runId,
      },
    ]);
  });

  it("joins a Python worker handed a job's traceparent to that job's trace, and observatory trace shows its event under its span", async () => {
    const jobId = `python-job-${randomUUID()}`;
    const producer = spawnNode(['--require', './instrumentation', 'test/tracker/fixtures/job-producer.ts'], {
      ...pythonEnv(),
      OTEL_SERVICE_NAME: 'job-producer',
      PYTHON,
      JOB_ID: jobId,
    });
    running.push(producer);
    const [, traceId, jobSpanId] = await producer.waitForLine(/^TRACE ([0-9a-f]{32}) ([0-9a-f]{16})$/);
    const [, workerTraceId, workerSpanId] = await producer.waitForLine(
      /^WORKER ([0-9a-f]{32}) ([0-9a-f]{16})$/,
      30_000,
    );
    await producer.waitForLine(/^DONE$/, 30_000);
    expect(producer.stdout).toContain('WORKER_EXIT 0');
    expect(workerTraceId).toBe(traceId);
    // Python's logging records carry the worker span's IDs.
    expect(producer.stderr.join('')).toContain(`trace=${traceId} span=${workerSpanId} tile done`);

    const trace = await fetchTrace(traceId!, (t) => t.spans.some((s) => s.spanID === workerSpanId));
    const worker = trace.spans.find((s) => s.spanID === workerSpanId)!;
    expect(worker.operationName).toBe('ndvi-worker.tile');
    expect(worker.references).toContainEqual(
      expect.objectContaining({ refType: 'CHILD_OF', traceID: traceId, spanID: jobSpanId }),
    );
    expect(trace.processes[worker.processID]!.serviceName).toBe('python-worker');

    let out = '';
    let err = '';
    const code = await traceCommand([traceId!, '--json', '--wait', '30'], {
      out: (text) => (out += text),
      err: (text) => (err += text),
      env: process.env,
      isTTY: false,
      columns: 220,
    });
    expect(err).toBe('');
    expect(code).toBe(0);
    const document = JSON.parse(out) as TraceDocument;
    const event = document.events.find((e) => e.event_name === 'tile_processed');
    expect(event).toMatchObject({
      span_id: workerSpanId,
      placed: true,
      service: 'python-worker',
      schema_version: '1-0-0',
      rejected_reason: null,
    });
    expect(event!.properties).toMatchObject({ job_id: jobId, tile_id: 'T31UDQ', n_pixels: 4096 });
  });
});
