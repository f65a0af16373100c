/**
 * The load generator's bookkeeping: percentiles from a bounded sketch that stay within 2 % of the exact values, and
 * a tally whose memory does not grow with the number of requests.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { LoadTally, networkError } from '../../demo/load-generator.ts';
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

describe("The load tally's server errors by cause", () => {
  const failing = (i: number, error: { code: string; message: string }, status = 504) => ({
    kind: 'search' as const,
    status,
    ms: 5000,
    traceId: `${String(i).padStart(32, '0')}`,
    faulted: false,
    error,
  });

  it('groups the errors not asked for by route, status, code and message with the IDs masked, a trace ID each', () => {
    const tally = new LoadTally();
    for (let i = 0; i < 10; i++)
      tally.add(
        failing(
          i,
          {
            code: 'downstream_error',
            message: `catalog failed with 500: scene S2A_202606${String(10 + i)}_T07 of user 0192f3a4-5b6c-7d8e-9f01-23456789abcd`,
          },
          502,
        ),
      );
    for (let i = 10; i < 13; i++)
      tally.add(failing(i, { code: 'downstream_timeout', message: 'catalog did not answer within 5000 ms' }));
    tally.add({
      ...failing(13, { code: 'ECONNRESET', message: 'read ECONNRESET' }),
      status: 0,
      traceId: undefined,
    });
    // Asked to fail: counted as injected, not as a cause.
    tally.add({
      ...failing(14, { code: 'injected_fault', message: 'catalog: injected fault' }, 500),
      faulted: true,
    });
    const report = tally.report(1);
    expect(report.serverErrors).toBe(14);
    expect(report.injected).toBe(1);
    expect(report.failureGroups).toEqual([
      {
        route: 'GET /api/scenes',
        status: 502,
        code: 'downstream_error',
        message: 'catalog failed with 500: scene <scene> of user <uuid>',
        count: 10,
        traceIds: [0, 1, 2].map((i) => String(i).padStart(32, '0')),
      },
      {
        route: 'GET /api/scenes',
        status: 504,
        code: 'downstream_timeout',
        message: 'catalog did not answer within 5000 ms',
        count: 3,
        traceIds: [10, 11, 12].map((i) => String(i).padStart(32, '0')),
      },
      {
        route: 'GET /api/scenes',
        status: 0,
        code: 'ECONNRESET',
        message: 'read ECONNRESET',
        count: 1,
        traceIds: [],
      },
    ]);
  });

  it('keeps at most fifty causes however many distinct messages arrive, counting the rest under one group', () => {
    const tally = new LoadTally();
    for (let i = 0; i < 10_000; i++)
      tally.add(failing(i, { code: 'internal', message: `error number ${i}` }, 500));
    const groups = tally.report(1).failureGroups;
    expect(groups).toHaveLength(51);
    expect(groups[0]).toMatchObject({ code: 'other', count: 10_000 - 50 });
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(10_000);
    expect(groups.every((g) => g.traceIds.length <= 3)).toBe(true);
  });
});

describe('Why a request got no answer', () => {
  it("names the socket error's code when the server resets the connection", async () => {
    const server = createServer((req) => req.socket.resetAndDestroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const error = await fetch(`http://127.0.0.1:${port}/`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(networkError(error)).toMatchObject({ code: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/) });
    } finally {
      server.close();
    }
  });

  it('names the timeout when the request was aborted for taking too long', async () => {
    const error = await fetch('http://127.0.0.1:9/', {
      signal: AbortSignal.abort(new DOMException('late', 'TimeoutError')),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(networkError(error).code).toBe('TimeoutError');
  });
});
