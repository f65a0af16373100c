/**
 * The one poll helper every test waits with: it retries what is not there yet, stops at once on an assertion
 * failure (retrying cannot fix a wrong value), and on timeout says what it waited for and what it last saw.
 */
import { describe, expect, it } from 'vitest';
import { pollUntil, PollTimeoutError } from '../../common/poll.ts';

describe('pollUntil', () => {
  it('returns the first value the probe gives, retrying undefined and thrown errors', async () => {
    let calls = 0;
    const value = await pollUntil(
      'the third call',
      async () => {
        calls++;
        if (calls === 1) return undefined;
        if (calls === 2) throw new Error('connection refused');
        return 'ready';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('does not retry a failed assertion: it fails at once with that assertion', async () => {
    let calls = 0;
    const polling = pollUntil(
      'a value that is wrong',
      async () => {
        calls++;
        expect(calls).toBe(42);
        return true;
      },
      { timeoutMs: 10_000, intervalMs: 1 },
    );
    await expect(polling).rejects.toThrow(/expected 1 to be 42/);
    expect(calls).toBe(1);
  });

  it('times out naming what it waited for and what the last attempt saw', async () => {
    const polling = pollUntil(
      'trace 42 in Jaeger',
      async () => {
        throw new Error('404 not found');
      },
      { timeoutMs: 30, intervalMs: 5 },
    );
    await expect(polling).rejects.toThrow(PollTimeoutError);
    await expect(polling).rejects.toThrow(
      /^timed out after 30 ms waiting for trace 42 in Jaeger; last attempt: 404 not found$/,
    );
  });
});
