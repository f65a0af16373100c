/** The promise helpers of common/async.ts. */
import { describe, expect, it } from 'vitest';
import { allSettledOrThrow } from '../../common/async.ts';

describe('allSettledOrThrow', () => {
  it('resolves with every value, in order', async () => {
    expect(await allSettledOrThrow([Promise.resolve(1), Promise.resolve('two')])).toEqual([1, 'two']);
  });

  it('rejects with the first failure only once every promise has settled', async () => {
    let finished = false;
    const slow = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      finished = true;
    });
    const failure = await allSettledOrThrow([
      Promise.reject(new Error('first')),
      slow,
      Promise.reject(new Error('second')),
    ]).catch((error: unknown) => error);
    expect((failure as Error).message).toBe('first');
    expect(finished).toBe(true);
  });
});
