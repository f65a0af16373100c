/**
 * Compaction against the real S3 store, fed with raw objects shaped exactly as the Collector's awss3 exporter
 * writes them (OTLP JSON, gzip): dedup by event ID, idempotent re-runs, event-time partitions, OTLP JSON quirks.
 * Every object and row carries this run's ID, so runs sharing the persistent bucket do not see each other.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { lakeCommand } from '../../cli/lake/command.ts';
import { S3Store } from '../../common/s3-store.ts';
import { compact, compactAll, lakeConfig, queryLake, type OtlpLogsDocument } from '../../lake/index.ts';
import { uuidv7 } from '../../tracker/index.ts';
import { listKeys, s3Client, stackEndpoints } from '../support/backends.ts';
import { recentRawPrefixes } from '../support/lake.ts';

const run = randomUUID().slice(0, 8);
const store = () => new S3Store(s3Client(), stackEndpoints().s3.bucket);
const HOUR = recentRawPrefixes()[0]!;
let objectCount = 0;

type Value =
  { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };
const kv = (key: string, value: Value) => ({ key, value });

interface RecordSpec {
  name: string;
  id?: string;
  version?: string;
  time?: Date;
  body: Record<string, Value>;
  traceId?: string;
}

function document(records: RecordSpec[]): OtlpLogsDocument {
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [
            kv('service.name', { stringValue: 'lake-test' }),
            kv('service.version', { stringValue: '1.2.3' }),
            kv('deployment.environment.name', { stringValue: 'test' }),
            kv('process.pid', { intValue: '4242' }),
          ],
        },
        scopeLogs: [
          {
            logRecords: records.map((r) => ({
              timeUnixNano: String(BigInt((r.time ?? new Date()).getTime()) * 1_000_000n),
              observedTimeUnixNano: String(BigInt((r.time ?? new Date()).getTime()) * 1_000_000n),
              eventName: r.name,
              body: { kvlistValue: { values: Object.entries(r.body).map(([k, v]) => kv(k, v)) } },
              attributes: [
                ...(r.id ? [kv('event.id', { stringValue: r.id })] : []),
                kv('event.schema_version', { stringValue: r.version ?? '1-0-0' }),
              ],
              traceId: r.traceId ?? '',
              spanId: '',
            })),
          },
        ],
      },
    ],
  };
}

/** Puts a raw object where the Collector would, and returns its key. */
async function putRaw(doc: OtlpLogsDocument): Promise<string> {
  const key = `${HOUR}lake-test-${run}-${++objectCount}.json.gz`;
  await store().put(key, gzipSync(JSON.stringify(doc)), 'application/json');
  return key;
}

const search = (user: string, id = uuidv7(), time?: Date): RecordSpec => ({
  name: 'search_made',
  id,
  time,
  body: {
    query: { stringValue: `q ${user}` },
    n_results: { intValue: '12' },
    user_id: { stringValue: user },
  },
});

const options = () => ({ store: store() });

describe('Compaction', () => {
  it('keeps one row when the same event ID is delivered twice, in one batch or in a later one', async () => {
    const user = `dup-${run}`;
    // Delivered again means the same record: the same ID and the same time (the Collector's retry, the tracker's).
    const record = search(user, uuidv7(), new Date());
    const first = await putRaw(document([record]));
    const again = await putRaw(document([record]));
    const batch = await compact([first, again], options());
    expect(batch).toMatchObject({ objects: 2, events: 1, duplicates: 1 });

    const later = await putRaw(document([record, search(user)]));
    expect(await compact([later], options())).toMatchObject({ objects: 1, events: 1, duplicates: 1 });

    const rows = await queryLake(`SELECT event_id FROM events WHERE user_id = '${user}'`, options());
    expect(rows.rows).toHaveLength(2);
    expect(rows.rows.filter((r) => r.event_id === record.id)).toHaveLength(1);
  });

  it('changes nothing when run again over the same objects, even when forced', async () => {
    const user = `idem-${run}`;
    const keys = [
      await putRaw(document([search(user), search(user)])),
      await putRaw(
        document([
          search(user),
          { name: 'search_made', id: uuidv7(), body: { query: { stringValue: `no user ${run}` } } },
        ]),
      ),
    ];
    const snapshot = async () => ({
      events: (await queryLake(`SELECT * FROM events WHERE user_id = '${user}' ORDER BY event_id`, options()))
        .rows,
      rejected: (
        await queryLake(
          `SELECT * FROM rejected WHERE payload LIKE '%no user ${run}%' ORDER BY event_id`,
          options(),
        )
      ).rows,
    });
    const first = await compact(keys, options());
    expect(first).toMatchObject({ objects: 2, events: 3, rejected: 1 });
    const tables = await snapshot();
    expect(tables.events).toHaveLength(3);
    expect(tables.rejected).toHaveLength(1);
    const filesBefore = await listKeys('curated/');

    expect(await compact(keys, options())).toMatchObject({ objects: 0, skipped: 2, files: [] });
    expect(await compact(keys, { ...options(), force: true })).toMatchObject({
      objects: 2,
      events: 0,
      rejected: 0,
      duplicates: 4,
      files: [],
    });
    expect(await snapshot()).toEqual(tables);
    expect(
      (await listKeys('curated/')).filter((k) => !filesBefore.includes(k) && k.includes('search_made')),
    ).toEqual([]);
  });

  it('puts a late event in the partition of the day it happened, not the day it arrived', async () => {
    const user = `late-${run}`;
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
    const result = await compact([await putRaw(document([search(user, uuidv7(), threeDaysAgo)]))], options());
    const day = threeDaysAgo.toISOString().slice(0, 10);
    expect(result.files).toEqual([
      expect.stringMatching(
        new RegExp(
          `^curated/events/event_name=search_made/dt=${day}/part-\\d+-\\d+-[0-9a-f-]{36}\\.parquet$`,
        ),
      ),
    ]);
    const rows = await queryLake(
      `SELECT CAST(dt AS VARCHAR) AS dt FROM events WHERE user_id = '${user}'`,
      options(),
    );
    expect(rows.rows).toEqual([{ dt: day }]);
  });

  it('reads OTLP JSON as the Collector writes it: int64 as strings, typed columns, resource service fields', async () => {
    const user = `types-${run}`;
    const traceId = randomUUID().replace(/-/g, '');
    const key = await putRaw(
      document([
        { ...search(user), traceId },
        {
          name: 'tile_processed',
          id: uuidv7(),
          traceId,
          body: {
            job_id: { stringValue: `job-${run}` },
            tile_id: { stringValue: 'T31UDQ' },
            date: { stringValue: '2026-06-01' },
            ndvi_mean: { doubleValue: 0.42 },
            ndvi_p10: { doubleValue: 0.1 },
            ndvi_p90: { intValue: '1' },
            n_pixels: { intValue: '9007199254' },
          },
        },
      ]),
    );
    await compact([key], options());
    const rows = await queryLake(
      `SELECT event_name, n_results, typeof(n_results) AS n_type, CAST("date" AS VARCHAR) AS tile_date, typeof("date") AS date_type,
              ndvi_mean, ndvi_p90, n_pixels, service_name, service_version, deployment_environment,
              json_extract(properties, '$.n_results')::INT AS from_json
       FROM events WHERE trace_id = '${traceId}' ORDER BY event_name`,
      options(),
    );
    expect(rows.rows).toEqual([
      expect.objectContaining({ event_name: 'search_made', n_results: 12, n_type: 'BIGINT', from_json: 12 }),
      expect.objectContaining({
        event_name: 'tile_processed',
        tile_date: '2026-06-01',
        date_type: 'DATE',
        ndvi_mean: 0.42,
        ndvi_p90: 1,
        n_pixels: 9007199254,
        service_name: 'lake-test',
        service_version: '1.2.3',
        deployment_environment: 'test',
      }),
    ]);
  });

  it('re-checks records from other producers: wrong types and unknown versions become rejected rows', async () => {
    const traceId = randomUUID().replace(/-/g, '');
    const noId: RecordSpec = {
      name: 'user_created',
      traceId,
      time: new Date(),
      body: { user_id: { stringValue: `noid-${run}` } },
    };
    const key = await putRaw(
      document([
        { name: 'user_created', id: uuidv7(), traceId, body: { user_id: { intValue: '7' } } },
        {
          name: 'user_created',
          id: uuidv7(),
          traceId,
          version: '9-0-0',
          body: { user_id: { stringValue: 'u' } },
        },
        // No event.id: the row still gets a stable ID, so a redelivery still dedups.
        noId,
      ]),
    );
    expect(await compact([key], options())).toMatchObject({ events: 1, rejected: 2 });
    const rejected = await queryLake(
      `SELECT reason FROM rejected WHERE trace_id = '${traceId}' ORDER BY reason`,
      options(),
    );
    expect(rejected.rows).toEqual([{ reason: 'schema_violation' }, { reason: 'unknown_schema_version' }]);
    const again = await putRaw(document([noId]));
    expect(await compact([again], options())).toMatchObject({ events: 0, duplicates: 1 });
  });

  it('compacts every raw object without a manifest marker with compactAll', async () => {
    const user = `all-${run}`;
    const prefix = `${HOUR}lake-test-${run}-`;
    await putRaw(document([search(user)]));
    const config = { ...lakeConfig(), raw: { ...lakeConfig().raw, events: prefix } };
    const result = await compactAll({ ...options(), config, signals: ['events'] });
    expect(result.objects).toBe(1);
    expect((await compactAll({ ...options(), config, signals: ['events'] })).objects).toBe(0);
  });
});

describe('observatory lake', () => {
  const cli = async (args: string[]) => {
    const io = { out: '', err: '' };
    const code = await lakeCommand(args, { out: (t) => (io.out += t), err: (t) => (io.err += t) });
    return { code, ...io };
  };

  it('names what was wrong and exits 2 on usage errors', async () => {
    const cases: [string[], RegExp][] = [
      [[], /needs a sub-command/],
      [['frobnicate'], /unknown lake sub-command "frobnicate"/],
      [['query'], /query needs the SQL/],
      [['query', 'SELECT 1', 'extra'], /one quoted argument; got 2/],
      [['query', 'SELECT 1', '--tsv'], /does not take --tsv/],
      [['query', 'SELECT 1', '--csv', '--json'], /--json or --csv, not both/],
      [['compact', 'now'], /compact takes no arguments/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).toMatch(message);
      expect(result.err).toMatch(/usage: observatory lake/);
    }
  });

  it("prints a table, and exits 1 with DuckDB's message on bad SQL", async () => {
    const table = await cli(['query', "SELECT 1 AS one, 'a' AS letter"]);
    expect(table).toMatchObject({ code: 0, err: '' });
    expect(table.out).toBe('one  letter\n---  ------\n1    a\n(1 row)\n');
    const bad = await cli(['query', 'SELEKT nonsense']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/observatory lake query: .*syntax error/i);
  });
});
