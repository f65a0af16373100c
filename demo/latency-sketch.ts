/**
 * A bounded percentile sketch for latencies: log-spaced buckets, each 2 % wider than the last, so any percentile is
 * within 2 % of the true value, and memory is a few thousand counters however long the run — the load generator
 * keeps no samples.
 */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** Values below this (ms) share the first bucket. */
const MIN = 0.01;
/** 0.01 ms to about 10 hours. */
const BUCKETS = Math.ceil(Math.log(36_000_000 / MIN) / LOG_GROWTH) + 1;

export class LatencySketch {
  private readonly counts = new Uint32Array(BUCKETS);
  private total = 0;
  private max = 0;

  add(ms: number): void {
    const index = ms <= MIN ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN) / LOG_GROWTH));
    this.counts[index]!++;
    this.total++;
    this.max = Math.max(this.max, ms);
  }

  get count(): number {
    return this.total;
  }

  /** The p-th percentile (0–100): the upper edge of the bucket holding it, never above the largest value seen. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.min(this.total, Math.max(1, Math.ceil((p / 100) * this.total)));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      // The last bucket is open-ended: its values are only bounded by the largest one seen.
      if (seen >= rank)
        return i === BUCKETS - 1 ? this.max : Math.min(this.max, i === 0 ? MIN : MIN * GROWTH ** i);
    }
    return this.max;
  }

  /** Buckets held, whatever the number of values added. */
  static get size(): number {
    return BUCKETS;
  }
}
