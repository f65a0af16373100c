/**
 * The listener's bounds against the real S3 store: a finished job leaves memory after its TTL and is still found,
 * from the store; a job the fleet's queue has no room for is refused whole with 429 and Retry-After — by the
 * listener and, passed through, by the gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../common/s3-store.ts';
import { etlConfig } from '../../etl/config.ts';
import type { Dispatcher } from '../../etl/dispatch.ts';
import { FleetBusyError, JobRunner, jobKey } from '../../etl/listener/jobs.ts';
import type { InvocationResult } from '../../etl/types.ts';
import { pollUntil } from '../support/poll.ts';
import { spawnNode, type RunningApp } from '../support/spawn.ts';

/** A dispatcher whose every invocation succeeds at once, with room for `room` chunks. */
function instantDispatcher(room = 100): Dispatcher {
  return {
    invoke: async (): Promise<InvocationResult> => ({
      ok: true,
      billedMs: 1,
      coldStart: false,
      invocationId: 'x',
    }),
    room: () => room,
    stats: () => ({}),
    close: async () => {},
  };
}

describe('The job runner', () => {
  it('forgets a finished job after its TTL and still finds it, as stored', async () => {
    const config = { ...etlConfig(), jobTtlMs: 300 };
    const store = S3Store.fromSettings(config.s3);
    const runner = new JobRunner(config, instantDispatcher(), store);
    const { id } = runner.submit('crop_stats', [{ payload: {} }, { payload: {} }]);
    expect(runner.held).toBe(1);
    await pollUntil(`job ${id} to leave memory`, async () => (runner.held === 0 ? true : undefined), {
      timeoutMs: 10_000,
    });
    const found = await runner.find(id);
    expect(found).toMatchObject({ id, status: 'done', chunks: { total: 2, done: 2 } });
    expect(found!.finished_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await store.getJson(jobKey(id))).toEqual(found);
  });

  it('looks up only IDs of its own shape in the store', async () => {
    const runner = new JobRunner(etlConfig(), instantDispatcher(), S3Store.fromSettings(etlConfig().s3));
    expect(await runner.find('../../raw/events/x')).toBeUndefined();
    expect(await runner.find('job-00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });

  it('refuses a job that does not fit the fleet’s queue, accepting none of it', () => {
    const runner = new JobRunner(etlConfig(), instantDispatcher(3), S3Store.fromSettings(etlConfig().s3));
    expect(() =>
      runner.submit(
        'crop_stats',
        Array.from({ length: 4 }, () => ({ payload: {} })),
      ),
    ).toThrow(FleetBusyError);
    expect(runner.held).toBe(0);
  });
});

describe('A full fleet queue', () => {
  let listener: RunningApp;
  let gateway: RunningApp;
  const urls = { etl: '', gateway: '' };
  beforeAll(async () => {
    // One sandbox and no waiting places: a job of more than one chunk cannot fit.
    listener = spawnNode(['--require', './instrumentation', 'etl/listener/main.ts'], {
      OTEL_SERVICE_NAME: 'etl-listener',
      OBSERVATORY_ETL_PORT: '0',
      OBSERVATORY_ETL_CONCURRENCY: '1',
      OBSERVATORY_ETL_MAX_WAITING: '0',
      OBSERVATORY_ETL_BUSY_RETRY_AFTER_S: '7',
    });
    urls.etl = `http://127.0.0.1:${(await listener.waitForLine(/^LISTENING (\d+)$/, 90_000))[1]}`;
    gateway = spawnNode(['--require', './instrumentation', 'services/gateway/main.ts'], {
      OTEL_SERVICE_NAME: 'gateway',
      OBSERVATORY_GATEWAY_PORT: '0',
      OBSERVATORY_ETL_URL: urls.etl,
    });
    urls.gateway = `http://127.0.0.1:${(await gateway.waitForLine(/^LISTENING (\d+)$/, 90_000))[1]}`;
  });
  afterAll(async () => {
    await Promise.all([listener?.stop(), gateway?.stop()]);
  });

  const job = { bbox: [0, 40, 10, 45], from: '2026-06-20', to: '2026-06-21' };

  it('answers 429 with Retry-After at the listener', async () => {
    const response = await fetch(`${urls.etl}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(job),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('too_busy');
    expect(body.error.message).toMatch(/room for 1 more chunks and the job has 4/);
  });

  it('answers 429 with Retry-After through the gateway too', async () => {
    const response = await fetch(`${urls.gateway}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(job),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    const body = (await response.json()) as { error: { code: string }; trace_id: string };
    expect(body.error.code).toBe('too_busy');
    expect(body.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('still takes a job that fits', async () => {
    const response = await fetch(`${urls.etl}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bbox: [0, 40, 5, 45], from: '2026-06-20', to: '2026-06-20' }),
    });
    expect(response.status).toBe(202);
  });
});
