/**
 * The one poll helper (common/poll.ts): returns the first value, retries what throws, but not an assertion failure
 * (retrying cannot fix a wrong value), and on timeout says what was awaited and what the last attempt saw.
 */
import { describe, expect, it } from 'vitest';
import { pollUntil, PollTimeoutError, sleep } from '../../common/poll.ts';

describe('pollUntil', () => {
  it('returns the first value the probe gives, retrying until then', async () => {
    let calls = 0;
    const value = await pollUntil('the third call', async () => (++calls === 3 ? 'ready' : undefined), {
      intervalMs: 1,
    });
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('returns falsy values other than undefined', async () => {
    expect(await pollUntil('zero', async () => 0, { intervalMs: 1 })).toBe(0);
    expect(await pollUntil('false', async () => false, { intervalMs: 1 })).toBe(false);
  });

  it('treats a probe that throws as "not yet"', async () => {
    let calls = 0;
    const value = await pollUntil(
      'a flaky probe',
      async () => {
        if (++calls < 3) throw new Error('connection refused');
        return calls;
      },
      { intervalMs: 1 },
    );
    expect(value).toBe(3);
  });

  it('throws an assertion failure at once instead of retrying it', async () => {
    let calls = 0;
    const failure = pollUntil(
      'a wrong value',
      async () => {
        calls++;
        expect(calls).toBe(0);
        return calls;
      },
      { intervalMs: 1, timeoutMs: 5000 },
    );
    await expect(failure).rejects.toMatchObject({ name: 'AssertionError' });
    expect(calls).toBe(1);
  });

  it('names what was awaited and the last error when it times out', async () => {
    const failure = pollUntil(
      'job 42 to finish',
      async () => {
        throw new Error('HTTP 503');
      },
      { intervalMs: 5, timeoutMs: 30 },
    );
    await expect(failure).rejects.toBeInstanceOf(PollTimeoutError);
    await expect(failure).rejects.toThrow(
      'timed out after 30 ms waiting for job 42 to finish; last attempt: HTTP 503',
    );
  });

  it('says "not yet" when the last attempt returned nothing', async () => {
    await expect(
      pollUntil('a value', async () => undefined, { intervalMs: 5, timeoutMs: 20 }),
    ).rejects.toThrow('waiting for a value; last attempt: not yet');
  });

  it('stops early when its signal aborts', async () => {
    const controller = new AbortController();
    let calls = 0;
    const failure = pollUntil(
      'something that never comes',
      async () => {
        if (++calls === 2) controller.abort();
        return undefined;
      },
      { intervalMs: 10, timeoutMs: 60_000, signal: controller.signal },
    );
    await expect(failure).rejects.toThrow('waiting for something that never comes');
    expect(calls).toBe(2);
  });
});

describe('sleep', () => {
  it('resolves at once when its signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    let done = false;
    const slept = sleep(60_000, controller.signal).then(() => (done = true));
    await slept;
    expect(done).toBe(true);
  });
});
