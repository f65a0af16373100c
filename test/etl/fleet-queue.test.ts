/**
 * The sandbox fleet's waiting queue is bounded: with every sandbox busy and every waiting place taken, one more
 * invocation fails at once with FleetFull instead of queueing without limit. Real sandboxes (worker processes under
 * the preload), held busy by the `hang` fault until the invocation timeout kills them. A sandbox that never becomes
 * ready is killed after the start-up timeout and its slot goes to the next invocation.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { pollUntil } from '../support/poll.ts';
import { etlConfig } from '../../etl/config.ts';
import { Fleet, FleetFull } from '../../etl/runtime/fleet.ts';
import type { ChunkEvent } from '../../etl/types.ts';

const hanging = (index: number): ChunkEvent => ({
  job_id: 'job-fleet-queue',
  kind: 'crop_stats',
  chunk_index: index,
  chunk_count: 3,
  attempt: 1,
  payload: {},
  trace: {},
  fault: { kind: 'hang', attempts: 1 },
});

describe('The sandbox fleet', () => {
  it('refuses an invocation at once when its sandboxes and waiting places are all taken', async () => {
    const config = { ...etlConfig(), concurrency: 1, maxWaiting: 1, timeoutMs: 5000 };
    const fleet = new Fleet('crop_stats', config, { ...process.env, OTEL_SERVICE_NAME: 'etl-worker' });
    try {
      expect(fleet.room()).toBe(2);
      const running = fleet.invoke(hanging(0));
      const waiting = fleet.invoke(hanging(1));
      await expect(fleet.invoke(hanging(2))).rejects.toThrow(FleetFull);
      expect(fleet.stats()).toMatchObject({ waiting: 1 });
      expect(fleet.room()).toBe(0);
      // The two it took run their course: each hangs until the timeout kills its sandbox.
      await expect(running).rejects.toThrow(/timed out after 5000 ms/);
      await expect(waiting).rejects.toThrow(/timed out after 5000 ms/);
    } finally {
      await fleet.close();
    }
  }, 60_000);

  it('lets a waiting invocation start a new sandbox when the one it waited for dies while starting', async () => {
    const config = { ...etlConfig(), concurrency: 1, maxWaiting: 5, timeoutMs: 20_000 };
    // The first sandbox never becomes ready (it hangs loading a module), so it is still starting when it is killed
    // however fast this machine is; the next one starts normally.
    const dir = await mkdtemp(join(tmpdir(), 'fleet-queue-'));
    const firstNeverReady = pathToFileURL(
      join(REPO_ROOT, 'test', 'etl', 'fixtures', 'first-never-ready.mjs'),
    ).href;
    const fleet = new Fleet('crop_stats', config, {
      ...process.env,
      OTEL_SERVICE_NAME: 'etl-worker',
      NODE_OPTIONS: `--import ${firstNeverReady}`,
      OBSERVATORY_TEST_FIRST_SANDBOX: join(dir, 'first'),
    });
    try {
      const first = fleet.invoke({ ...hanging(0), fault: { kind: 'throw', attempts: 1 } });
      const second = fleet.invoke({ ...hanging(1), fault: { kind: 'throw', attempts: 1 } });
      // Both are in hand before the kill, so that neither can be left unhandled when an expectation fails.
      const outcomes = Promise.allSettled([first, second]);
      const [starting] = await pollUntil('the first sandbox to be forked', async () =>
        fleet.pids().length > 0 ? fleet.pids() : undefined,
      );
      // Killed only once it has taken the never-ready role: killed before it loads the fixture, it would leave that
      // role to the next sandbox, which would then never become ready either.
      await pollUntil('the first sandbox to take the never-ready role', async () =>
        existsSync(join(dir, 'first')) ? true : undefined,
      );
      process.kill(starting!, 'SIGKILL');
      const [firstOutcome, secondOutcome] = await outcomes;
      expect(firstOutcome).toMatchObject({
        status: 'rejected',
        reason: { message: 'sandbox failed to start (exit SIGKILL)' },
      });
      // The waiting one gets a sandbox of its own and runs (its injected fault makes the result a failure).
      expect(secondOutcome).toMatchObject({
        status: 'fulfilled',
        value: { ok: false, error: { message: 'injected fault: chunk 1 attempt 1' } },
      });
    } finally {
      await fleet.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('kills a sandbox that never becomes ready after the start-up timeout and gives its slot to the next invocation', async () => {
    const config = { ...etlConfig(), concurrency: 1, maxWaiting: 5, startTimeoutMs: 2000 };
    const neverReady = pathToFileURL(join(REPO_ROOT, 'test', 'etl', 'fixtures', 'never-ready.mjs')).href;
    const fleet = new Fleet('crop_stats', config, {
      ...process.env,
      OTEL_SERVICE_NAME: 'etl-worker',
      NODE_OPTIONS: `--import ${neverReady}`,
    });
    try {
      const first = fleet.invoke(hanging(0));
      // The second waits for the only slot: it gets it only when the stuck sandbox is given up.
      const second = fleet.invoke(hanging(1));
      const [stuck] = await pollUntil('the first sandbox to start', async () =>
        fleet.pids().length > 0 ? fleet.pids() : undefined,
      );
      await expect(first).rejects.toThrow('sandbox not ready within 2000 ms; killed');
      await expect(second).rejects.toThrow('sandbox not ready within 2000 ms; killed');
      await pollUntil(`the stuck sandbox ${stuck} to be gone`, async () =>
        alive(stuck!) ? undefined : true,
      );
      expect(fleet.stats()).toEqual({ running: 0, warm: 0, waiting: 0 });
      expect(fleet.room()).toBe(config.concurrency + config.maxWaiting);
    } finally {
      await fleet.close();
    }
  }, 60_000);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
