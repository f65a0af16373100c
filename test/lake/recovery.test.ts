/**
 * Compaction of all four signals against the real S3 store: run twice it adds nothing, and killed halfway (SIGKILL
 * between uploading Parquet and marking its raw objects done) then run again it loses and duplicates nothing —
 * counted by ID, per signal. Raw objects are shaped as the Collector's awss3 exporter writes them, with redelivered
 * records and objects, under a prefix of this run's own.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { S3Store } from '../../common/s3-store.ts';
import { REPO_ROOT } from '../../common/paths.ts';
import { compact, queryLake, type LakeConfig, type LakeSignal } from '../../lake/index.ts';
import { uuidv7 } from '../../tracker/index.ts';
import { listKeys, s3Client, stackEndpoints } from '../support/backends.ts';
import { lakeUnder, recentRawPrefixes } from '../support/lake.ts';

const base = `lake-test/${randomUUID().slice(0, 8)}/`;
const cacheDir = mkdtempSync(join(tmpdir(), 'lake-recovery-cache-'));
const config: LakeConfig = lakeUnder(base, cacheDir);
const store = () => new S3Store(s3Client(), stackEndpoints().s3.bucket);
const hour = recentRawPrefixes()[0]!.slice('raw/events/'.length);
const kv = (key: string, value: object) => ({ key, value });
const nanos = (ms: number) => String(BigInt(ms) * 1_000_000n);
const now = Date.now();
const resource = { attributes: [kv('service.name', { stringValue: 'lake-recovery' })] };

function eventsDocument(ids: string[], rejected: Set<string>) {
  return {
    resourceLogs: [
      {
        resource,
        scopeLogs: [
          {
            logRecords: ids.map((id, i) => ({
              timeUnixNano: nanos(now - i),
              eventName: 'search_made',
              // Every fifth event breaks its schema: a rejected row, deduplicated the same way.
              body: {
                kvlistValue: {
                  values: [
                    kv('query', { stringValue: `q ${id}` }),
                    kv('n_results', { intValue: rejected.has(id) ? '-1' : '3' }),
                    kv('user_id', { stringValue: 'u-recovery' }),
                  ],
                },
              },
              attributes: [
                kv('event.id', { stringValue: id }),
                kv('event.schema_version', { stringValue: '1-0-0' }),
              ],
            })),
          },
        ],
      },
    ],
  };
}

function logsDocument(lines: string[]) {
  return {
    resourceLogs: [
      {
        resource,
        scopeLogs: [
          {
            scope: { name: 'pino' },
            logRecords: lines.map((line, i) => ({
              timeUnixNano: nanos(now - 1000 + i),
              severityText: 'info',
              severityNumber: 9,
              body: { stringValue: line },
              attributes: [kv('line', { intValue: String(i) })],
            })),
          },
        ],
      },
    ],
  };
}

function metricsDocument(names: string[], time: number) {
  return {
    resourceMetrics: [
      {
        resource,
        scopeMetrics: [
          {
            scope: { name: 'lake-recovery' },
            metrics: names.map((name) => ({
              name,
              unit: '1',
              sum: {
                aggregationTemporality: 2,
                isMonotonic: true,
                dataPoints: [
                  {
                    attributes: [kv('kind', { stringValue: 'a' })],
                    startTimeUnixNano: nanos(now - 60_000),
                    timeUnixNano: nanos(time),
                    asInt: '5',
                  },
                  {
                    attributes: [kv('kind', { stringValue: 'b' })],
                    startTimeUnixNano: nanos(now - 60_000),
                    timeUnixNano: nanos(time),
                    asDouble: 1.5,
                  },
                ],
              },
            })),
          },
        ],
      },
    ],
  };
}

function tracesDocument(traceId: string, spanIds: string[]) {
  return {
    resourceSpans: [
      {
        resource,
        scopeSpans: [
          {
            scope: { name: 'lake-recovery' },
            spans: spanIds.map((spanId, i) => ({
              traceId,
              spanId,
              parentSpanId: i === 0 ? '' : spanIds[0],
              name: `step ${i}`,
              kind: i === 0 ? 2 : 1,
              startTimeUnixNano: nanos(now - 500 + i),
              endTimeUnixNano: nanos(now - 400 + i),
              status: { code: 0 },
            })),
          },
        ],
      },
    ],
  };
}

/** Raw objects of the four signals, with redeliveries; and the IDs each table should end with. */
async function putRawObjects(): Promise<{
  keys: Record<LakeSignal, string[]>;
  expected: Record<string, number>;
}> {
  const ids = Array.from({ length: 30 }, () => uuidv7());
  const rejected = new Set(ids.filter((_, i) => i % 5 === 0));
  const lines = Array.from({ length: 40 }, (_, i) => `log line ${i} ${randomUUID()}`);
  const traceId = randomBytes(16).toString('hex');
  const spans = Array.from({ length: 12 }, () => randomBytes(8).toString('hex'));
  const metricNames = ['lake_recovery.a', 'lake_recovery.b', 'lake_recovery.c'];
  const objects: Record<LakeSignal, object[]> = {
    // Records 10–14 are in both objects.
    events: [eventsDocument(ids.slice(0, 15), rejected), eventsDocument(ids.slice(10, 30), rejected)],
    logs: [logsDocument(lines.slice(0, 25)), logsDocument(lines.slice(20, 40))],
    // The second object is a redelivery of the first; the third adds a later export.
    metrics: [
      metricsDocument(metricNames, now - 30_000),
      metricsDocument(metricNames, now - 30_000),
      metricsDocument(metricNames, now - 10_000),
    ],
    traces: [tracesDocument(traceId, spans.slice(0, 8)), tracesDocument(traceId, spans.slice(4, 12))],
  };
  const keys = { events: [], logs: [], metrics: [], traces: [] } as Record<LakeSignal, string[]>;
  for (const signal of Object.keys(objects) as LakeSignal[]) {
    for (const [i, document] of objects[signal].entries()) {
      const key = `${config.raw[signal]}${hour}${signal}_${i}_${uuidv7()}.json.gz`;
      await store().put(key, gzipSync(JSON.stringify(document)), 'application/json');
      keys[signal].push(key);
    }
  }
  // Lines are whole records: line i of the second object is another record than line i of the first (its
  // `line` attribute and time differ), so every log record is unique.
  const expected = {
    events: ids.length - rejected.size,
    rejected: rejected.size,
    logs: 25 + 20,
    metrics: metricNames.length * 2 * 2,
    spans: spans.length,
  };
  return { keys, expected };
}

const ID_OF: Record<string, string> = {
  events: 'event_id',
  rejected: 'event_id',
  logs: 'log_id',
  metrics: 'point_id',
  spans: "trace_id || ':' || span_id",
};

/** Rows and distinct IDs per table, read back from the curated zone. */
async function counts(): Promise<Record<string, { rows: number; ids: number }>> {
  const out: Record<string, { rows: number; ids: number }> = {};
  for (const [table, id] of Object.entries(ID_OF)) {
    const result = await queryLake(`SELECT count(*) AS rows, count(DISTINCT ${id}) AS ids FROM ${table}`, {
      config,
      store: store(),
    });
    out[table] = result.rows[0] as { rows: number; ids: number };
  }
  return out;
}

const asCounts = (expected: Record<string, number>) =>
  Object.fromEntries(Object.entries(expected).map(([table, n]) => [table, { rows: n, ids: n }]));

describe('Compaction of the four signals', () => {
  it('loses and duplicates nothing when killed halfway and run again, and adds nothing when run twice', async () => {
    const { keys, expected } = await putRawObjects();
    const all = [...keys.events, ...keys.logs, ...keys.metrics, ...keys.traces];

    // Events write two partitions (accepted, rejected), logs one; the second metrics file is the 5th upload.
    const child = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'test', 'lake', 'fixtures', 'compact-and-die.ts'), '5', base, ...all],
      { encoding: 'utf8', env: { ...process.env, OBSERVATORY_LAKE_CACHE_DIR: cacheDir }, timeout: 60_000 },
    );
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(child.stdout).not.toContain('finished without being killed');
    const written = child.stdout.trim().split('\n');
    expect(written.map((line) => line.split(' ')[1])).toEqual([
      'events',
      'events',
      'logs',
      'metrics',
      'metrics',
    ]);

    // Events and logs were marked done; metrics were half written, traces not started.
    const markers = await listKeys(config.manifestPrefix, store());
    const marked = (signal: LakeSignal) =>
      keys[signal].filter((k) => markers.includes(`${config.manifestPrefix}${k}.json`));
    expect(
      [marked('events'), marked('logs'), marked('metrics'), marked('traces')].map((m) => m.length),
    ).toEqual([2, 2, 0, 0]);
    const half = await counts();
    expect(half.metrics!.rows).toBeGreaterThan(0);
    expect(half.metrics!.rows).toBeLessThan(expected.metrics!);
    expect(half.spans!.rows).toBe(0);

    const rerun = await compact(all, { config, store: store() });
    expect(rerun.skipped).toBe(keys.events.length + keys.logs.length);
    expect(rerun.signals.metrics).toMatchObject({ objects: 3, rowsIn: 18 });
    expect(rerun.signals.metrics.rowsOut + half.metrics!.rows).toBe(expected.metrics);
    expect(rerun.signals.traces).toMatchObject({ objects: 2, rowsIn: 16, rowsOut: 12, duplicates: 4 });
    const after = await counts();
    expect(after).toEqual(asCounts(expected));

    // Twice: nothing left to do; forced, everything is a duplicate.
    expect(await compact(all, { config, store: store() })).toMatchObject({
      objects: 0,
      skipped: all.length,
      files: [],
    });
    const forced = await compact(all, { config, store: store(), force: true });
    expect(forced.files).toEqual([]);
    for (const signal of ['events', 'logs', 'metrics', 'traces'] as const) {
      expect(forced.signals[signal].rowsOut, signal).toBe(0);
      expect(forced.signals[signal].duplicates, signal).toBe(forced.signals[signal].rowsIn);
    }
    expect(await counts()).toEqual(after);
  }, 120_000);
});
