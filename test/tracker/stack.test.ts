/**
 * The Tracker against the real stack: an app under the preload tracks events inside an active span; they travel
 * SDK → Collector → S3 raw/events/ → compaction → curated Parquet, and `lake query` finds them by trace ID.
 * Invalid events arrive too, as rejected rows; and a missing Collector costs the app a bounded, reported shutdown
 * (proven by a result within the wait while the exporter's own timeout is far longer; how long shutdown() takes is a
 * figure of `npm run bench -- shutdown`, not asserted here).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { lakeCommand } from '../../cli/lake/command.ts';
import { compact, queryLake } from '../../lake/index.ts';
import type { TrackerFlushResult } from '../../tracker/index.ts';
import { rawKeysForTrace } from '../support/lake.ts';
import { spawnNode, type RunningApp } from '../support/spawn.ts';

const running: RunningApp[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const app of running.splice(0)) await app.stop();
  for (const close of closers.splice(0)) await close();
});

interface AppRun {
  traceId: string;
  spanId: string;
  result: TrackerFlushResult & { errors: string[] };
}

async function runTrackApp(env: Record<string, string>): Promise<AppRun> {
  const app = spawnNode(['--require', './instrumentation', 'test/tracker/fixtures/track-app.ts'], {
    OTEL_SERVICE_NAME: 'tracker-test',
    // Nothing leaves before shutdown: every event is still queued when shutdown() is called.
    OTEL_BLRP_SCHEDULE_DELAY: '600000',
    ...env,
  });
  running.push(app);
  const [, traceId, spanId] = await app.waitForLine(/^TRACE ([0-9a-f]{32}) ([0-9a-f]{16})$/);
  const [, json] = await app.waitForLine(/^RESULT (.*)$/, RESULT_WAIT_MS);
  return { traceId: traceId!, spanId: spanId!, result: JSON.parse(json!) as AppRun['result'] };
}

// The shutdown bound, and how long a test waits for the app's result: the bound with room for a loaded machine.
const SHUTDOWN_MS = 2000;
const RESULT_WAIT_MS = 30_000;
// The exporter's own timeout where the bound is proven: far past RESULT_WAIT_MS, so a result in time is the bound's.
const EXPORTER_TIMEOUT_MS = '600000';

describe('Tracker with the real stack', () => {
  it('delivers events tracked in an active span to S3 at shutdown, and lake query returns them with that trace ID', async () => {
    const runId = `tracker-${randomUUID()}`;
    const { traceId, spanId, result } = await runTrackApp({ RUN_ID: runId, EXTRA_EVENTS: '50' });
    expect(result.errors).toEqual([]);
    expect(result.events).toEqual({ accepted: 51, rejected: 3, dropped: 0 });
    expect(result.completed).toBe(true);
    expect(result.logs!.delivered).toBeGreaterThanOrEqual(54);
    expect(result.dropped).toBe(0);

    const keys = await rawKeysForTrace(traceId, 54);
    await compact(keys);

    const io = { text: '', err: '' };
    const code = await lakeCommand(
      [
        'query',
        `SELECT event_name, user_id, query, n_results, trace_id, span_id, schema_version, service_name, dt = CAST(event_time AS DATE) AS dt_is_event_day
         FROM events WHERE trace_id = '${traceId}' AND event_name = 'search_made'`,
        '--json',
      ],
      { out: (t) => (io.text += t), err: (t) => (io.err += t) },
    );
    expect(io.err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(io.text)).toEqual([
      {
        event_name: 'search_made',
        user_id: runId,
        query: `ndvi ${runId}`,
        n_results: 3,
        trace_id: traceId,
        span_id: spanId,
        schema_version: '1-0-0',
        service_name: 'tracker-test',
        dt_is_event_day: true,
      },
    ]);
    const downloads = await queryLake(
      `SELECT count(*) AS n, count(DISTINCT event_id) AS ids, sum(image_size) AS bytes
       FROM events WHERE trace_id = '${traceId}' AND event_name = 'image_downloaded'`,
    );
    expect(downloads.rows).toEqual([{ n: 50, ids: 50, bytes: 50 * 1000 + (49 * 50) / 2 }]);
  });

  it('lands a schema violation, an unknown event and an oversize event as rejected rows with their reasons', async () => {
    const runId = `tracker-rejects-${randomUUID()}`;
    const { traceId, result } = await runTrackApp({ RUN_ID: runId });
    expect(result.errors).toEqual([]);
    expect(result.events).toEqual({ accepted: 1, rejected: 3, dropped: 0 });

    await compact(await rawKeysForTrace(traceId, 4));
    const rejected = await queryLake(
      `SELECT reason, event_name, user_id, payload_truncated, length(payload) AS payload_chars, errors
       FROM rejected WHERE trace_id = '${traceId}' ORDER BY reason`,
    );
    expect(rejected.rows.map((r) => [r.reason, r.event_name, r.payload_truncated])).toEqual([
      ['schema_violation', 'search_made', false],
      ['size_violation', 'search_made', true],
      ['unknown_event', 'no_such_event', false],
    ]);
    const [schema, size, unknown] = rejected.rows;
    expect(JSON.parse(String(schema!.errors))).toEqual([{ path: '/n_results', message: 'must be >= 0' }]);
    expect(schema!.user_id).toBe(runId);
    expect(size!.payload_chars).toBe(4096);
    expect(String(unknown!.errors)).toMatch(/no_such_event/);
  });

  it('returns from shutdown with the Collector down, and reports every event as dropped', async () => {
    const { result } = await runTrackApp({
      RUN_ID: `tracker-down-${randomUUID()}`,
      EXTRA_EVENTS: '20',
      // A closed port: the Collector is down.
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      SHUTDOWN_MS: String(SHUTDOWN_MS),
    });
    expect(result.errors).toEqual([]);
    expect(result.events).toEqual({ accepted: 21, rejected: 3, dropped: 0 });
    expect(result.delivered).toBe(0);
    expect(result.logs!.offered).toBe(24);
    expect(result.dropped).toBe(24);
  });

  it('returns from shutdown at the timeout when the Collector never answers, and counts the queue as dropped', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      sockets.forEach((socket) => socket.destroy());
      return new Promise((resolve) => server.close(resolve));
    });
    const { port } = server.address() as { port: number };
    const { result } = await runTrackApp({
      RUN_ID: `tracker-blackhole-${randomUUID()}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_TIMEOUT: EXPORTER_TIMEOUT_MS,
      SHUTDOWN_MS: String(SHUTDOWN_MS),
    });
    // The export never ends by itself: a result within RESULT_WAIT_MS, not completed, is the bound's doing.
    expect(result.completed).toBe(false);
    expect(result.delivered).toBe(0);
    expect(result.dropped).toBe(4);
  });
});
