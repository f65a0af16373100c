/**
 * Metrics and spans in the lake, end to end on the real stack: a service's counter, gauge and histogram and a demo
 * request's spans go through our Collector to raw/metrics/ and raw/traces/, the compaction turns them into
 * curated/metrics/ and curated/spans/, and SQL reads back exactly what was sent — the histogram's p95 within one
 * bucket of Prometheus' histogram_quantile, the span tree with Jaeger's parent edges.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../../demo/platform.ts';
import { REPO_ROOT } from '../../common/paths.ts';
import { compact, queryLake } from '../../lake/index.ts';
import {
  fetchTrace,
  promQuery,
  stackEndpoints,
  tag,
  type JaegerSpan,
  type JaegerTrace,
} from '../support/backends.ts';
import { rawKeysContaining } from '../support/lake.ts';
import { pollUntil } from '../support/poll.ts';

const run = randomUUID().slice(0, 8);

/**
 * The p95 of a histogram point from its buckets, interpolated linearly inside the bucket the rank falls in, as
 * Prometheus' histogram_quantile does (the last finite bound when the rank is in the +Inf bucket). Also in
 * docs/tracker-and-lake.md.
 */
const P95_SQL = (where: string) => `
  WITH h AS (
    SELECT bucket_bounds AS b, bucket_counts AS c, 0.95 * count AS rank,
           list_transform(range(1, len(bucket_counts) + 1), i -> list_sum(bucket_counts[1:i])) AS cum
      FROM metrics WHERE ${where}
  ), k AS (
    SELECT *, list_position(list_transform(cum, x -> x >= rank), true) AS i FROM h
  )
  SELECT CASE WHEN i > len(b) THEN b[len(b)]
              ELSE coalesce(b[i - 1], 0) + (b[i] - coalesce(b[i - 1], 0)) * (rank - coalesce(cum[i - 1], 0)) / c[i]
         END AS p95
    FROM k`;

describe('Metrics in the lake', () => {
  const service = `lake-metrics-${run}`;
  let provider: MeterProvider;
  const latencies = [
    ...Array(60).fill(7),
    ...Array(25).fill(30),
    ...Array(10).fill(80),
    ...Array(5).fill(400),
  ];
  const bounds = [5, 10, 25, 50, 100, 250, 500, 1000];

  beforeAll(async () => {
    provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.version': '9.9.9' }),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: `${stackEndpoints().otlpHttp}/v1/metrics` }),
          // One export, when the test flushes: every point in the lake then carries the same values.
          exportIntervalMillis: 3_600_000,
        }),
      ],
    });
    const meter = provider.getMeter('lake-test');
    const requests = meter.createCounter('lake_test.requests', { unit: '{request}' });
    requests.add(3, { route: '/scenes', 'lake.run': run });
    requests.add(4, { route: '/scenes', 'lake.run': run });
    meter.createGauge('lake_test.queue_depth', { unit: '{tile}' }).record(42.5, { queue: 'tiles' });
    const latency = meter.createHistogram('lake_test.latency', {
      unit: 'ms',
      advice: { explicitBucketBoundaries: bounds },
    });
    for (const ms of latencies) latency.record(ms, { route: '/scenes' });
    await provider.forceFlush();
  });
  afterAll(async () => {
    await provider?.shutdown();
  });

  it('keeps a counter, a gauge and a histogram with their exact values and attributes', async () => {
    const keys = await pollUntil(
      `raw/metrics/ objects with service ${service}`,
      async () => {
        const found = await rawKeysContaining('metrics', service);
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    );
    const result = await compact(keys);
    expect(result.signals.metrics.rowsIn).toBeGreaterThanOrEqual(3);
    const rows = await queryLake(
      `SELECT metric_name, metric_type, unit, temporality, is_monotonic, attributes, value, count, sum, min, max,
              bucket_bounds, bucket_counts, resource['service.version'] AS version
         FROM metrics WHERE service_name = '${service}' ORDER BY metric_name`,
      { tables: ['metrics'] },
    );
    expect(rows.rows).toEqual([
      expect.objectContaining({
        metric_name: 'lake_test.latency',
        metric_type: 'histogram',
        unit: 'ms',
        temporality: 'cumulative',
        attributes: { route: '/scenes' },
        count: 100,
        sum: latencies.reduce((a, b) => a + b, 0),
        min: 7,
        max: 400,
        bucket_bounds: bounds,
        bucket_counts: [0, 60, 0, 25, 10, 0, 5, 0, 0],
        version: '9.9.9',
      }),
      expect.objectContaining({
        metric_name: 'lake_test.queue_depth',
        metric_type: 'gauge',
        unit: '{tile}',
        attributes: { queue: 'tiles' },
        value: 42.5,
      }),
      expect.objectContaining({
        metric_name: 'lake_test.requests',
        metric_type: 'sum',
        temporality: 'cumulative',
        is_monotonic: true,
        attributes: { route: '/scenes', 'lake.run': run },
        value: 7,
      }),
    ]);
  });

  it("gives the histogram's p95 from SQL within one bucket of Prometheus' histogram_quantile", async () => {
    const prom = await pollUntil(
      `histogram_quantile of lake_test_latency for job ${service} in Prometheus`,
      async () => {
        const samples = await promQuery(
          `histogram_quantile(0.95, sum by (le) ({__name__=~"lake_test_latency.*_bucket", job="${service}"}))`,
        );
        return samples.length > 0 ? Number(samples[0]!.value[1]) : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 1000 },
    );
    const sql = await queryLake(
      P95_SQL(`service_name = '${service}' AND metric_name = 'lake_test.latency'`),
      {
        sync: false,
        tables: ['metrics'],
      },
    );
    const p95 = Number(sql.rows[0]!.p95);
    // The bucket Prometheus' answer falls in: (50, 100] here; "within one bucket" = at most one bucket's width.
    const upper = bounds.find((b) => b >= prom)!;
    const lower = [...bounds].reverse().find((b) => b < prom) ?? 0;
    expect(Math.abs(p95 - prom)).toBeLessThanOrEqual(upper - lower);
    expect(p95).toBeGreaterThan(50);
    expect(p95).toBeLessThanOrEqual(100);
  });
});

describe('Spans in the lake', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform({
      freePorts: true,
      env: {
        OTEL_BSP_SCHEDULE_DELAY: '500',
        OTEL_BLRP_SCHEDULE_DELAY: '500',
        OTEL_METRIC_EXPORT_INTERVAL: '2000',
      },
    });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('holds every span of a demo request with the same parent edges as Jaeger, and joins its event and a metric', async () => {
    const response = await fetch(
      `${platform.urls.gateway}/api/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-02&limit=2`,
      { headers: { 'x-user-id': `lake-${run}` } },
    );
    expect(response.status).toBe(200);
    const traceId = response.headers.get('traceresponse')!.split('-')[1]!;
    // Complete when the root (the gateway's server span, which ends last in its process) is in and every call to a
    // service of the platform has its server span: a process exports its spans in the order they end, so a span
    // that is in brings every span of its process that ended before it.
    const servicePorts = new Set(Object.values(platform.urls).map((url) => new URL(url).port));
    const settled = await fetchTrace(
      traceId,
      (t) => t.spans.some((s) => s.references.length === 0) && unansweredCalls(t, servicePorts).length === 0,
    );
    expect(settled.spans.length).toBeGreaterThanOrEqual(6);
    // The completeness rule saw the gateway's calls to the services behind it (it cannot pass for want of them).
    expect(callsTo(settled, servicePorts).length).toBeGreaterThan(0);
    const edges = (pairs: [string, string | null][]) => new Map(pairs.sort(([a], [b]) => a.localeCompare(b)));
    const fromJaeger = edges(
      settled.spans.map((s) => [
        s.spanID,
        s.references.find((r) => r.refType === 'CHILD_OF')?.spanID ?? null,
      ]),
    );

    const fromLake = await pollUntil(
      `all ${fromJaeger.size} spans of ${traceId} in curated/spans/`,
      async () => {
        await compact(await rawKeysContaining('traces', traceId));
        const rows = await queryLake(
          `SELECT DISTINCT span_id, parent_span_id FROM spans WHERE trace_id = '${traceId}'`,
          { tables: ['spans'] },
        );
        return rows.rows.length >= fromJaeger.size ? rows : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2000 },
    );
    expect(
      edges(
        fromLake.rows.map((r) => [
          String(r.span_id),
          r.parent_span_id === null ? null : String(r.parent_span_id),
        ]),
      ),
    ).toEqual(fromJaeger);

    // The docs' join: the request's business event, its spans and a gateway metric of the same hour.
    await pollUntil(
      `the search_made event of ${traceId} and the gateway's metrics in the lake`,
      async () => {
        await compact([
          ...(await rawKeysContaining('events', traceId)),
          ...(await rawKeysContaining('metrics', '"gateway"')),
        ]);
        const joined = await queryLake(joinQuery(traceId));
        return joined.rows.length > 0 ? joined : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2000 },
    );
  }, 180_000);
});

/** The port a client span called: `server.port` or `net.peer.port`, else the port of `url.full` or `http.url`. */
function calledPort(span: JaegerSpan): string | undefined {
  const port = tag(span, 'server.port') ?? tag(span, 'net.peer.port');
  if (port !== undefined) return String(port);
  const url = tag(span, 'url.full') ?? tag(span, 'http.url');
  return typeof url === 'string' ? new URL(url).port : undefined;
}

/** Client spans that called one of `ports`. */
function callsTo(trace: JaegerTrace, ports: Set<string>): JaegerSpan[] {
  return trace.spans.filter((s) => tag(s, 'span.kind') === 'client' && ports.has(calledPort(s) ?? ''));
}

/** Client spans that called one of `ports` and whose server span is not in the trace yet. */
function unansweredCalls(trace: JaegerTrace, ports: Set<string>): JaegerSpan[] {
  const answered = new Set(
    trace.spans
      .filter((s) => tag(s, 'span.kind') === 'server')
      .flatMap((s) => s.references.map((r) => r.spanID)),
  );
  return callsTo(trace, ports).filter((s) => !answered.has(s.spanID));
}

/** The join query of docs/tracker-and-lake.md, narrowed to one trace. */
function joinQuery(traceId: string): string {
  const docs = readFileSync(join(REPO_ROOT, 'docs', 'tracker-and-lake.md'), 'utf8');
  const sql = docs.match(/<!-- join-query -->\s*```sql\n([\s\S]*?)```/)?.[1];
  if (!sql) throw new Error('docs/tracker-and-lake.md has no ```sql block after <!-- join-query -->');
  return `SELECT * FROM (${sql.trim().replace(/;$/, '')}) WHERE trace_id = '${traceId}'`;
}
