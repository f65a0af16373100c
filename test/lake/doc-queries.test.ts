/**
 * The example queries of docs/tracker-and-lake.md, run on metrics with known buckets and counts (put in the real S3
 * store under a prefix of this run's own, compacted like any other): every number they print is checked against
 * values worked out here, independently of SQL.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { S3Store } from '../../common/s3-store.ts';
import { compact, lakeConfig, queryLake, type LakeConfig } from '../../lake/index.ts';
import { s3Client, stackEndpoints } from '../support/backends.ts';

const base = `lake-test/${randomUUID().slice(0, 8)}/`;
const config: LakeConfig = {
  ...lakeConfig(),
  raw: { ...lakeConfig().raw, metrics: `${base}raw/metrics/` },
  curatedPrefix: `${base}curated/`,
  manifestPrefix: `${base}lake/manifest/`,
  cacheDir: mkdtempSync(join(tmpdir(), 'lake-doc-queries-')),
};
const store = () => new S3Store(s3Client(), stackEndpoints().s3.bucket);

function docQuery(name: string): string {
  const docs = readFileSync(join(REPO_ROOT, 'docs', 'tracker-and-lake.md'), 'utf8');
  const sql = docs.match(new RegExp(`<!-- query: ${name} -->\\s*\`\`\`sql\\n([\\s\\S]*?)\`\`\``))?.[1];
  if (!sql) throw new Error(`docs/tracker-and-lake.md has no \`\`\`sql block after <!-- query: ${name} -->`);
  return sql;
}

const kv = (key: string, value: object) => ({ key, value });
const DAY = 86_400_000;
const midnight = Math.floor(Date.now() / DAY) * DAY;
const day0 = midnight - 2 * DAY;
const day1 = midnight - DAY;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const nanos = (ms: number) => String(BigInt(ms) * 1_000_000n);
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1];

/** One object of metrics from one gateway instance. */
function document(instance: string, metrics: object[]) {
  return {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            kv('service.name', { stringValue: 'gateway' }),
            kv('service.instance.id', { stringValue: instance }),
          ],
        },
        scopeMetrics: [{ scope: { name: 'doc-queries' }, metrics }],
      },
    ],
  };
}

const histogram = (route: string, start: number, points: [number, number[]][]) => ({
  name: 'http.server.request.duration',
  unit: 's',
  histogram: {
    aggregationTemporality: 2,
    dataPoints: points.map(([time, counts]) => ({
      attributes: [
        kv('http.route', { stringValue: route }),
        kv('http.request.method', { stringValue: 'GET' }),
      ],
      startTimeUnixNano: nanos(start),
      timeUnixNano: nanos(time),
      count: String(counts.reduce((a, b) => a + b, 0)),
      sum: 1,
      bucketCounts: counts.map(String),
      explicitBounds: BOUNDS,
    })),
  },
});

const counter = (
  name: string,
  attributes: Record<string, string>,
  start: number,
  points: [number, number][],
) => ({
  name,
  unit: '1',
  sum: {
    aggregationTemporality: 2,
    isMonotonic: true,
    dataPoints: points.map(([time, value]) => ({
      attributes: Object.entries(attributes).map(([k, v]) => kv(k, { stringValue: v })),
      startTimeUnixNano: nanos(start),
      timeUnixNano: nanos(time),
      asInt: String(value),
    })),
  },
});

/** histogram_quantile's answer, worked out by hand: linear inside the bucket where the rank falls. */
function quantile(q: number, counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    if (cumulative + counts[i]! >= rank) {
      if (i >= BOUNDS.length) return BOUNDS[BOUNDS.length - 1]!;
      const lower = i === 0 ? 0 : BOUNDS[i - 1]!;
      return lower + ((BOUNDS[i]! - lower) * (rank - cumulative)) / counts[i]!;
    }
    cumulative += counts[i]!;
  }
  return NaN;
}

const add = (a: number[], b: number[]) => a.map((x, i) => x + b[i]!);
const sub = (a: number[], b: number[]) => a.map((x, i) => x - b[i]!);

describe('The example queries of the lake docs', () => {
  it('give the daily p95 of the gateway search latency and the chunks per job per day', async () => {
    // Instance i-1 runs both days (cumulative counts); i-2 starts on day 1. Another route must not count.
    const a0 = [0, 10, 40, 30, 10, 5, 3, 2, 0, 0, 0];
    const a1 = add(a0, [0, 5, 20, 20, 10, 10, 20, 10, 5, 0, 0]);
    const a2 = add(a1, [0, 0, 10, 10, 10, 5, 5, 5, 5, 40, 10]);
    const b2 = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 90];
    const objects = [
      document('i-1', [
        histogram('/api/scenes', day0, [
          [day0 + 10 * 3_600_000, a0],
          [day0 + 20 * 3_600_000, a1],
          [day1 + 20 * 3_600_000, a2],
        ]),
        histogram('/api/users/:id', day0, [[day1 + 20 * 3_600_000, a2.map((x) => x * 3)]]),
        counter('etl.chunks', { 'etl.job.kind': 'crop_stats', outcome: 'processed' }, day0, [
          [day0 + 3_600_000, 12],
          [day0 + 23 * 3_600_000, 40],
          [day1 + 23 * 3_600_000, 100],
        ]),
        counter('etl.chunks', { 'etl.job.kind': 'crop_stats', outcome: 'dead_lettered' }, day1, [
          [day1 + 23 * 3_600_000, 2],
        ]),
        counter('etl.chunks', { 'etl.job.kind': 'crop_stats', outcome: 'retried' }, day1, [
          [day1 + 23 * 3_600_000, 5],
        ]),
        counter('etl.jobs', { 'etl.job.kind': 'crop_stats', 'etl.job.status': 'done' }, day0, [
          [day0 + 23 * 3_600_000, 4],
          [day1 + 23 * 3_600_000, 10],
        ]),
      ]),
      document('i-2', [histogram('/api/scenes', day1, [[day1 + 12 * 3_600_000, b2]])]),
    ];
    const keys: string[] = [];
    for (const [i, doc] of objects.entries()) {
      const key = `${config.raw.metrics}year=2026/month=01/day=01/hour=00/metrics_${i}_${randomUUID()}.json.gz`;
      await store().put(key, gzipSync(JSON.stringify(doc)), 'application/json');
      keys.push(key);
    }
    await compact(keys, { config, store: store() });

    const day0Counts = a1;
    const day1Counts = add(sub(a2, a1), b2);
    const p95 = await queryLake(docQuery('daily-p95'), { config, store: store() });
    expect(p95.rows).toEqual([
      {
        dt: iso(day0),
        requests: day0Counts.reduce((a, b) => a + b, 0),
        p95_ms: Math.round(quantile(0.95, day0Counts) * 10_000) / 10,
      },
      {
        dt: iso(day1),
        requests: day1Counts.reduce((a, b) => a + b, 0),
        p95_ms: Math.round(quantile(0.95, day1Counts) * 10_000) / 10,
      },
    ]);

    const chunks = await queryLake(docQuery('chunks-per-job'), { config, store: store() });
    expect(chunks.rows).toEqual([
      { dt: iso(day0), kind: 'crop_stats', chunks: 40, jobs: 4, chunks_per_job: 10 },
      { dt: iso(day1), kind: 'crop_stats', chunks: 62, jobs: 6, chunks_per_job: 10.3 },
    ]);
  });
});
