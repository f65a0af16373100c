/**
 * The load generator's bookkeeping: percentiles from a bounded sketch that stay within 2 % of the exact values, and
 * a tally whose memory does not grow with the number of requests.
 */
import { describe, expect, it } from 'vitest';
import { LoadTally } from '../../demo/load-generator.ts';
import { LatencySketch } from '../../demo/latency-sketch.ts';

function exact(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('The latency sketch', () => {
  it('gives p50, p95 and p99 within 2 % of the exact percentiles of a skewed distribution', () => {
    const sketch = new LatencySketch();
    const values: number[] = [];
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 50_000; i++) {
      // Log-normal-ish: most requests fast, a long tail.
      const ms = Math.exp(2 + 1.5 * (random() + random() + random() - 1.5));
      values.push(ms);
      sketch.add(ms);
    }
    for (const p of [50, 95, 99]) {
      const truth = exact(values, p);
      expect(Math.abs(sketch.percentile(p) - truth) / truth, `p${p}`).toBeLessThanOrEqual(0.02);
    }
    expect(sketch.count).toBe(50_000);
  });

  it('holds a fixed number of buckets whatever it is fed, and never reports above the largest value', () => {
    const sketch = new LatencySketch();
    for (const ms of [0, 0.001, 5, 1e9]) sketch.add(ms);
    expect(LatencySketch.size).toBeLessThan(2000);
    expect(sketch.percentile(100)).toBe(1e9);
    expect(new LatencySketch().percentile(50)).toBe(0);
  });
});

describe('The load tally', () => {
  it('reports counts per kind and status and only the last five trace IDs, after a hundred thousand requests', () => {
    const tally = new LoadTally();
    for (let i = 0; i < 100_000; i++) {
      const status = i % 100 === 0 ? 503 : 200;
      tally.add({
        kind: i % 2 ? 'search' : 'download',
        status,
        ms: 10 + (i % 50),
        traceId: `t${i}`,
        faulted: false,
      });
    }
    const report = tally.report(10);
    expect(report.sent).toBe(100_000);
    expect(report.byStatus).toEqual({ '200': 99_000, '503': 1000 });
    expect(report.byKind.download).toMatchObject({ count: 50_000, errors: 1000 });
    expect(report.byKind.search).toMatchObject({ count: 50_000, errors: 0 });
    expect(report.sampleTraces.ok).toEqual(['t99995', 't99996', 't99997', 't99998', 't99999']);
    expect(report.sampleTraces.failed.map((f) => f.traceId)).toEqual([
      't99500',
      't99600',
      't99700',
      't99800',
      't99900',
    ]);
    expect(report.byKind.search!.p50).toBeGreaterThanOrEqual(34);
    expect(report.byKind.search!.p50).toBeLessThanOrEqual(36 * 1.02);
  });
});
