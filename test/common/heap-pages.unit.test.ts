/**
 * Giving V8's pooled heap pages back (common/heap-pages.ts), in a child process of its own so that nothing else
 * allocates in it: after a burst of short-lived objects and ordinary full collections, V8's heap statistics have
 * shrunk but the emptied pages stay resident in its page pool; keepHeapPagesReleased finds the pool over the threshold
 * and gives it back, and leaves it alone when it is under the threshold or the threshold is 0.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs a burst then `release` in a fresh process; returns the pool and the RSS before and after, in MiB. */
function burstThen(release: string): {
  pooledBefore: number;
  pooledAfter: number;
  rssBefore: number;
  rssAfter: number;
  releases: { pooledMiB: number; pauseMs: number; leftMiB: number }[];
} {
  const script = `
    import { keepHeapPagesReleased, pooledHeapMiB } from './common/heap-pages.ts';
    import { burstAndCollect } from './test/support/fixtures/v8-burst.mjs';
    await burstAndCollect();
    const rss = () => process.memoryUsage().rss / 2 ** 20;
    const [pooledBefore, rssBefore] = [pooledHeapMiB(), rss()];
    const releases = [];
    ${release}
    process.stdout.write(
      JSON.stringify({ pooledBefore, rssBefore, pooledAfter: pooledHeapMiB(), rssAfter: rss(), releases }),
    );
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as ReturnType<typeof burstThen>;
}

describe('keepHeapPagesReleased', () => {
  it('gives back the pages a burst left in V8’s pool when the pool is over the threshold', () => {
    const r = burstThen(
      'const stop = keepHeapPagesReleased({ thresholdMiB: 32, intervalMs: 60_000 }, (r) => releases.push(r)); stop();',
    );
    expect(r.pooledBefore).toBeGreaterThan(50);
    expect(r.pooledAfter).toBeLessThan(8);
    expect(r.rssBefore - r.rssAfter).toBeGreaterThan(40);
    // One release, reported with the pool it found and what it left.
    expect(r.releases).toHaveLength(1);
    expect(r.releases[0]!.pooledMiB).toBeGreaterThan(50);
    expect(r.releases[0]!.leftMiB).toBeLessThan(8);
    expect(r.releases[0]!.pauseMs).toBeGreaterThan(0);
  });

  it('checks once more a while after start: a pool that a start-up burst fills is given back then, not at the interval', () => {
    // The first check (at start) gives back the preamble's burst; the second burst comes after it, and the interval is
    // an hour away: only the check after settleMs can give that one back.
    const r = burstThen(`
      const started = Date.now();
      const stop = keepHeapPagesReleased({ thresholdMiB: 32, intervalMs: 3_600_000, settleMs: 8000 }, (r) => releases.push(r));
      await burstAndCollect();
      const burstDone = Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 9500 - burstDone));
      stop();
      // The check after settleMs must come after the burst (a slow machine): say so instead of a wrong failure.
      if (burstDone >= 8000) throw new Error('the burst took ' + burstDone + ' ms, past settleMs');
    `);
    expect(r.releases).toHaveLength(2);
    expect(r.releases[1]!.pooledMiB).toBeGreaterThan(50);
    expect(r.pooledAfter).toBeLessThan(8);
  });

  it('leaves the pool alone under the threshold, and when the threshold is 0', () => {
    for (const settings of [
      '{ thresholdMiB: 4096, intervalMs: 60_000 }',
      '{ thresholdMiB: 0, intervalMs: 60_000 }',
    ]) {
      const r = burstThen(`keepHeapPagesReleased(${settings}, (r) => releases.push(r))();`);
      expect(r.releases, settings).toEqual([]);
      expect(r.pooledBefore, settings).toBeGreaterThan(50);
      expect(r.pooledAfter, settings).toBeGreaterThan(50);
    }
  });
});
