/**
 * Compaction at production volume and under hostile input, against the real S3 store: raw objects as the Collector's
 * awss3 exporter writes them (OTLP JSON, gzip), at its largest batch (4 096 records) with 1 KiB and 4 KiB bodies,
 * a record beyond the size limit, objects it cannot read, and a producer's rejected reason that climbs out of its
 * folder. Asserts outcomes — rows exactly once, rejected reasons, objects filed as failed with their reason — never
 * timings or memory (bench/lake.ts measures those). Everything lives under a prefix and a cache folder of this run.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  AggregationTemporality,
  type DataPoint,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { lakeCommand } from '../../cli/lake/command.ts';
import { METRICS } from '../../common/names.ts';
import { S3Store } from '../../common/s3-store.ts';
import { compact, compactAll, queryLake, unprocessedKeys, type LakeConfig } from '../../lake/index.ts';
import { compactInChild } from '../../lake/compact-process.ts';
import { objectTimeRange } from '../../lake/compact.ts';
import { uuidv7 } from '../../tracker/index.ts';
import { listKeys, s3Client, stackEndpoints } from '../support/backends.ts';
import { lakeUnder, recentRawPrefixes } from '../support/lake.ts';

const run = randomUUID().slice(0, 8);
const base = `lake-volume/${run}/`;
const work = mkdtempSync(join(tmpdir(), 'lake-volume-'));
const config: LakeConfig = lakeUnder(base, join(work, 'cache'));
const store = () => new S3Store(s3Client(), stackEndpoints().s3.bucket);
const hour = recentRawPrefixes()[0]!.slice('raw/events/'.length);
const kv = (key: string, value: object) => ({ key, value });
const nanos = (ms: number) => String(BigInt(ms) * 1_000_000n);
const resource = { attributes: [kv('service.name', { stringValue: 'lake-volume' })] };
/** Text to cut bodies from, different from record to record. */
const TEXT = randomBytes(48 << 10).toString('base64');
let sequence = 0;

/** One Collector batch of log records, each with a body of `bodyBytes` and a time and text of its own. */
function logsBatch(records: number, bodyBytes: number, body?: (i: number) => string) {
  const first = sequence;
  sequence += records;
  return {
    resourceLogs: [
      {
        resource,
        scopeLogs: [
          {
            scope: { name: 'pino' },
            logRecords: Array.from({ length: records }, (_, i) => {
              const n = first + i;
              const text = `${run} record ${n} ${TEXT.slice(n % 4096, (n % 4096) + bodyBytes)}`.slice(
                0,
                bodyBytes,
              );
              return {
                timeUnixNano: nanos(Date.now() + n),
                severityNumber: 9,
                severityText: 'info',
                body: { stringValue: body ? body(i) : text },
                attributes: [kv('run', { stringValue: run })],
                traceId: randomBytes(16).toString('hex'),
                spanId: randomBytes(8).toString('hex'),
              };
            }),
          },
        ],
      },
    ],
  };
}

/** Puts a raw object (a document, gzipped here, or gzipped bytes) into the current hour of `lake`'s raw zone. */
async function putRaw(
  signal: 'events' | 'logs',
  document: object | Buffer,
  name = uuidv7(),
  lake: LakeConfig = config,
): Promise<string> {
  const key = `${lake.raw[signal]}${hour}${signal}_${name}.json.gz`;
  const body = Buffer.isBuffer(document) ? document : gzipSync(JSON.stringify(document));
  await store().put(key, body, 'application/json');
  return key;
}

const count = async (sql: string) => Number((await queryLake(sql, { store: store(), config })).rows[0]!.n);

describe('Compaction at production volume', () => {
  it('compacts 30 objects of 4 096 × 1 KiB records and 5 of 4 096 × 4 KiB (17 MB each) in one hour exactly once, in the child process lake compact runs', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 30; i++) keys.push(await putRaw('logs', logsBatch(4096, 1024)));
    const big = logsBatch(4096, 4096);
    expect(JSON.stringify(big).length).toBeGreaterThan(17_000_000);
    keys.push(await putRaw('logs', big));
    for (let i = 0; i < 4; i++) keys.push(await putRaw('logs', logsBatch(4096, 4096)));
    // The Collector redelivers a batch now and then: the same object under a second key.
    keys.push(await putRaw('logs', big));
    const total = 35 * 4096;

    // As `observatory lake compact` runs it: a child process of built JavaScript with the sandbox's semi-space.
    const report = await compactInChild({ config, signals: ['logs'] });
    expect(report.module).toMatch(/\.mjs$/);
    expect(report.execArgv).toContain(`--max-semi-space-size=${config.compactionSemiSpaceMb}`);
    expect(report.mallocArenaMax).toBe(process.env.MALLOC_ARENA_MAX ?? String(config.compactionMallocArenas));
    const result = report.result;
    expect(result.failed).toEqual([]);
    expect(result.signals.logs).toMatchObject({
      objects: 36,
      rowsIn: total + 4096,
      rowsOut: total,
      duplicates: 4096,
    });
    expect(await count(`SELECT count(*) AS n FROM logs WHERE attributes['run'] = '${run}'`)).toBe(total);
    expect(
      await count(`SELECT count(DISTINCT log_id) AS n FROM logs WHERE attributes['run'] = '${run}'`),
    ).toBe(total);
    expect(
      await count(
        `SELECT count(*) AS n FROM logs WHERE attributes['run'] = '${run}' AND length(body) = 4096`,
      ),
    ).toBe(5 * 4096);

    expect((await compactInChild({ config, signals: ['logs'] })).result).toMatchObject({
      objects: 0,
      files: [],
    });
    expect(keys).toHaveLength(36);
  }, 600_000);

  it('files a 17 MiB record in rejected as too_large and compacts the rest of its object', async () => {
    const huge = `${run}-huge ${'h'.repeat(17 << 20)}`;
    const logs = await putRaw(
      'logs',
      logsBatch(100, 512, (i) => (i === 42 ? huge : `${run} small ${i}`)),
    );
    const events = await putRaw('events', {
      resourceLogs: [
        {
          resource,
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: nanos(Date.now()),
                  eventName: 'search_made',
                  body: {
                    kvlistValue: {
                      values: [
                        kv('query', { stringValue: huge }),
                        kv('n_results', { intValue: '1' }),
                        kv('user_id', { stringValue: `huge-${run}` }),
                      ],
                    },
                  },
                  attributes: [
                    kv('event.id', { stringValue: uuidv7() }),
                    kv('event.schema_version', { stringValue: '1-0-0' }),
                    kv('run', { stringValue: run }),
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    const result = await compact([logs, events], { store: store(), config });
    expect(result.failed).toEqual([]);
    expect(result.signals.logs).toMatchObject({ objects: 1, rowsIn: 100 });
    expect(await count(`SELECT count(*) AS n FROM logs WHERE body LIKE '${run} small %'`)).toBe(99);
    const rejected = await queryLake(
      `SELECT reason, event_name, payload_truncated, length(payload) AS payload_chars, errors FROM rejected
       WHERE reason = 'too_large' AND payload LIKE '%${run}%' ORDER BY event_name`,
      { store: store(), config },
    );
    expect(rejected.rows).toEqual([
      expect.objectContaining({ reason: 'too_large', event_name: '', payload_truncated: true }),
      expect.objectContaining({ reason: 'too_large', event_name: 'search_made', payload_truncated: true }),
    ]);
    for (const row of rejected.rows) {
      expect(row.payload_chars).toBeLessThanOrEqual(4096);
      expect(String(row.errors)).toMatch(/of more than 1048576 bytes of JSON is over the lake's limit/);
    }
  }, 300_000);
});

describe('A compaction that cannot process an object', () => {
  it('files it as failed, with the reason, in lake compact output and a metric, and compacts every other object', async () => {
    const marker = `${run}-failing`;
    const good = [
      await putRaw(
        'logs',
        logsBatch(10, 64, (i) => `${marker} good ${i}`),
      ),
      await putRaw(
        'logs',
        logsBatch(10, 64, (i) => `${marker} good too ${i}`),
      ),
    ];
    const notGzip = await putRaw('logs', Buffer.from('this is not gzip'));
    const notJson = await putRaw('logs', gzipSync('{"resourceLogs": [ this is not JSON'));
    // A few KiB of gzip that would inflate beyond the bound (lakeConfig maxObjectMb).
    const bomb = await putRaw('logs', gzipSync(Buffer.alloc((config.maxObjectMb + 1) << 20, 0x20)));
    // Staged, but DuckDB refuses its row (a severity that is not a number): the pass is split until it stands alone.
    const refused = logsBatch(3, 64, (i) => `${marker} refused ${i}`);
    (refused.resourceLogs[0]!.scopeLogs[0]!.logRecords[1] as { severityNumber: unknown }).severityNumber =
      'loud';
    const refusedKey = await putRaw('logs', refused);

    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const io = { out: '', err: '' };
    const code = await lakeCommand(
      ['compact'],
      { out: (t) => (io.out += t), err: (t) => (io.err += t) },
      { store: store(), config, signals: ['logs'], meterProvider },
    );
    expect(io.err).toBe('');
    expect(code).toBe(0);
    expect(io.out).toMatch(/4 raw objects filed as failed/);
    expect(io.out).toContain(`${notGzip}: `);
    expect(io.out).toContain(`${notJson}: `);
    expect(io.out).toMatch(
      new RegExp(
        `${bomb.replaceAll('.', '\\.')}: .*decompresses to more than ${config.maxObjectMb << 20} bytes`,
      ),
    );
    expect(io.out).toMatch(
      new RegExp(`${refusedKey.replaceAll('.', '\\.')}: .*Failed to cast value to numerical: "loud"$`, 'm'),
    );
    expect(await count(`SELECT count(*) AS n FROM logs WHERE body LIKE '${marker} good %'`)).toBe(20);
    for (const key of good) {
      expect(await store().getJson(`${config.manifestPrefix}${key}.json`)).toMatchObject({ raw_key: key });
    }

    await reader.forceFlush();
    const points = exporter
      .getMetrics()
      .flatMap((m) => m.scopeMetrics)
      .flatMap((s) => s.metrics)
      .filter((m) => m.descriptor.name === METRICS.lakeFailedObjects.name)
      .flatMap((m) => m.dataPoints as DataPoint<number>[]);
    const byType = Object.fromEntries(points.map((p) => [String(p.attributes['error.type']), p.value]));
    // Not gzip, not JSON, and a value DuckDB refuses are unreadable; the bomb is too large.
    expect(byType).toEqual({ unreadable: 3, too_large: 1 });
    expect(points.every((p) => p.attributes['lake.signal'] === 'logs')).toBe(true);
    await meterProvider.shutdown();

    // Filed, not retried: the next run has nothing to do, and says so.
    const again = await compactAll({ store: store(), config, signals: ['logs'] });
    expect(again).toMatchObject({ objects: 0, failed: [] });
    const markers = await Promise.all(
      [notGzip, bomb].map((key) =>
        store().getJson<{ status: string; reason: string }>(`${config.manifestPrefix}${key}.json`),
      ),
    );
    expect(markers).toEqual([
      expect.objectContaining({ status: 'failed', reason: expect.any(String) }),
      expect.objectContaining({
        status: 'failed',
        reason: expect.stringMatching(/decompresses to more than/),
      }),
    ]);
  }, 300_000);
});

describe('Telemetry data never reaches the file system', () => {
  it('files a rejected reason that climbs out of its folder under a safe partition, and touches nothing outside', async () => {
    // From curated/rejected/reason=<here>/ inside the cache folder, enough `..` to land beside the cache, in `escaped`.
    const climb = `x/${'../'.repeat(3 + config.curatedPrefix.split('/').filter(Boolean).length)}escaped/evil`;
    const id = uuidv7();
    const key = await putRaw('events', {
      resourceLogs: [
        {
          resource,
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: nanos(Date.now()),
                  eventName: 'search_made',
                  body: { stringValue: JSON.stringify({ query: 'q' }) },
                  attributes: [
                    kv('event.id', { stringValue: id }),
                    kv('event.rejected_reason', { stringValue: climb }),
                    kv('event.payload', { stringValue: '{"query":"q"}' }),
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    const later = await putRaw('events', {
      resourceLogs: [
        {
          resource,
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: nanos(Date.now()),
                  eventName: 'search_made',
                  body: {
                    kvlistValue: {
                      values: [
                        kv('query', { stringValue: 'fine' }),
                        kv('n_results', { intValue: '2' }),
                        kv('user_id', { stringValue: `after-${run}` }),
                      ],
                    },
                  },
                  attributes: [
                    kv('event.id', { stringValue: uuidv7() }),
                    kv('event.schema_version', { stringValue: '1-0-0' }),
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    const result = await compact([key, later], { store: store(), config });
    expect(result).toMatchObject({ failed: [], rejected: 1, events: 1 });
    const rows = await queryLake(`SELECT reason FROM rejected WHERE event_id = '${id}'`, {
      store: store(),
      config,
    });
    expect(rows.rows).toEqual([{ reason: expect.stringMatching(/^x_\.\._(\.\._)+escaped_evil$/) }]);
    expect(await count(`SELECT count(*) AS n FROM events WHERE user_id = 'after-${run}'`)).toBe(1);
    // Compaction goes on: another run over the same hour does not fail.
    expect((await compactAll({ store: store(), config, signals: ['events'] })).failed).toEqual([]);

    const written = await listKeys(base);
    expect(
      written.filter((k) => k.split('/').some((segment) => segment === '..' || segment === '.')),
    ).toEqual([]);
    expect(written.some((k) => k.startsWith(`${config.curatedPrefix}rejected/reason=x_.._`))).toBe(true);
    // Everything on disk is inside the cache folder: nothing landed beside it.
    const outside = readdirSync(work, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(work, join(e.parentPath, e.name)))
      .filter((path) => !path.startsWith(`cache/`));
    expect(outside).toEqual([]);
    expect(readdirSync(work)).toEqual(['cache']);
  }, 120_000);
});

describe('Finding what to compact', () => {
  it('lists only the hours from the watermark on, and moves the watermark past closed hours with no work left', async () => {
    const prefix = `${base}watermark/`;
    const own: LakeConfig = {
      ...config,
      raw: { ...config.raw, logs: `${prefix}raw/logs/` },
      manifestPrefix: `${prefix}lake/manifest/`,
    };
    const oldHour = 'year=2020/month=01/day=01/hour=00/';
    const put = async (folder: string) => {
      const key = `${own.raw.logs}${folder}logs_${uuidv7()}.json.gz`;
      await store().put(key, gzipSync(JSON.stringify(logsBatch(5, 32))), 'application/json');
      return key;
    };
    const oldKey = await put(oldHour);
    const nowKey = await put(hour);
    const watermarkOf = () =>
      store().getJson<{ hour: string; pending: string[] }>(
        `${own.manifestPrefix}watermark/${own.raw.logs}hour.json`,
      );
    const first = await compactAll({ store: store(), config: own, signals: ['logs'] });
    expect(first.objects).toBe(2);
    // The old hour had work when it was listed: it stays pending until a listing finds it done.
    expect(await watermarkOf()).toMatchObject({ pending: [oldHour] });
    expect((await compactAll({ store: store(), config: own, signals: ['logs'] })).objects).toBe(0);
    const watermark = await watermarkOf();
    expect(watermark?.pending).toEqual([]);
    expect(watermark!.hour > oldHour).toBe(true);
    expect(watermark!.hour <= hour).toBe(true);

    // An object that appears in an hour behind the watermark is not looked for any more (the Collector writes by
    // arrival time, so a closed hour gets no new objects); one in the current hour is.
    const behind = await put(oldHour);
    const current = await put(hour);
    const next = await compactAll({ store: store(), config: own, signals: ['logs'] });
    expect(next.objects).toBe(1);
    expect(next.files.length).toBeGreaterThan(0);
    expect([oldKey, nowKey, behind, current]).toHaveLength(4);
  }, 120_000);

  it('lists an open hour from its cursor on, and the hour whole when it closes, so a late object behind the cursor is still found', async () => {
    const prefix = `${base}cursor/`;
    // No lag: a key is old enough for the cursor as soon as it is compacted.
    const own: LakeConfig = {
      ...config,
      raw: { ...config.raw, logs: `${prefix}raw/logs/` },
      manifestPrefix: `${prefix}lake/manifest/`,
      cursorLagMs: 0,
    };
    // The keys each listing got back from the store itself (before any filtering of ours), and what each asked for.
    const returned: string[] = [];
    const asked: { Prefix?: string; Delimiter?: string }[] = [];
    const client = s3Client();
    const send = client.send.bind(client) as (command: unknown) => Promise<{ Contents?: { Key?: string }[] }>;
    (client as unknown as { send: typeof send }).send = async (command) => {
      if (command instanceof ListObjectsV2Command) asked.push(command.input);
      const output = await send(command);
      if (command instanceof ListObjectsV2Command)
        returned.push(...(output.Contents ?? []).map((c) => c.Key!));
      return output;
    };
    const watched = new S3Store(client, stackEndpoints().s3.bucket);
    /** A key named at `ms` (a uuidv7 of that time, as the Collector names each upload). */
    const nameAt = (ms: number) => {
      const time = ms.toString(16).padStart(12, '0');
      const rest = randomBytes(8).toString('hex');
      return `${time.slice(0, 8)}-${time.slice(8)}-7${rest.slice(0, 3)}-8${rest.slice(3, 6)}-${rest.slice(4, 16)}`;
    };
    const put = async (name = uuidv7()) => {
      const key = `${own.raw.logs}${hour}logs_${name}.json.gz`;
      await store().put(key, gzipSync(JSON.stringify(logsBatch(2, 32))), 'application/json');
      return key;
    };
    const now = Date.now();
    // Twelve objects named in two time windows of their uuidv7 (an hour and 8 minutes ago), and one named between
    // them that is uploaded only later (a slow upload).
    const lateName = nameAt(now - 14 * 60_000);
    const older = await Promise.all(Array.from({ length: 6 }, () => put(nameAt(now - 60 * 60_000))));
    const newer = await Promise.all(Array.from({ length: 6 }, () => put(nameAt(now - 8 * 60_000))));
    await unprocessedKeys(watched, own, ['logs']); // the watermark, with no cursor yet
    // The compaction lists folders too: the markers of the objects' hour, the curated partitions it writes to.
    asked.length = 0;
    expect((await compact([...older, ...newer], { store: watched, config: own })).failed).toEqual([]);
    expect(asked.map((input) => input.Prefix)).toEqual(
      expect.arrayContaining([
        `${own.manifestPrefix}${own.raw.logs}${hour}`,
        expect.stringContaining('curated/logs/'),
      ]),
    );
    expect(asked.filter((input) => input.Delimiter !== '/')).toEqual([]);
    // The planning after the compaction sees them all done and sets the cursor at the last of them.
    expect(await unprocessedKeys(watched, own, ['logs'])).toEqual([]);
    const watermark = await store().getJson<{ after: Record<string, string> }>(
      `${own.manifestPrefix}watermark/${own.raw.logs}hour.json`,
    );
    expect(watermark?.after[hour]).toBe(newer.toSorted().at(-1));

    // Now planning asks the store only for the cursor's time window and the ones after it: the older objects and
    // their markers are not even sent back. Each listing names one hour folder with the delimiter `/`: without it
    // the local store walks the whole bucket for every listing, a cost that follows all the lake holds.
    const next = await put();
    returned.length = 0;
    asked.length = 0;
    expect(await unprocessedKeys(watched, own, ['logs'])).toEqual([next]);
    expect(returned.filter((key) => older.some((o) => key.endsWith(o)))).toEqual([]);
    expect(returned).toContain(next);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.filter((input) => input.Delimiter !== '/')).toEqual([]);
    // An object uploaded behind the cursor is not seen while its hour is open…
    const late = await put(lateName);
    expect(await unprocessedKeys(watched, own, ['logs'])).toEqual([next]);
    // …and is when the hour closes: it is listed whole once more, and the late object is left as pending work.
    const closed = new Date(now + (own.watermarkGraceHours + 2) * 3_600_000);
    expect((await unprocessedKeys(watched, own, ['logs'], closed)).toSorted()).toEqual(
      [late, next].toSorted(),
    );
    const after = await store().getJson<{ pending: string[]; after: Record<string, string> }>(
      `${own.manifestPrefix}watermark/${own.raw.logs}hour.json`,
    );
    expect(after).toMatchObject({ pending: [hour], after: {} });
  }, 120_000);
});

describe('The compaction process of lake compact', () => {
  it("answers the compaction's error as its own, and does not hang on it", async () => {
    await expect(compactInChild({ config, keys: ['elsewhere/raw/logs/x.json.gz'] })).rejects.toThrow(
      /raw object elsewhere\/raw\/logs\/x\.json\.gz is under no raw prefix/,
    );
  });
});

describe('Dropping rows already in the lake', () => {
  it("reads the keys of only the objects whose time range meets the new rows', and still drops every duplicate", async () => {
    const prefix = `${base}ranges/`;
    const own = (cacheName: string) => lakeUnder(prefix, join(work, cacheName));
    const at = (iso: string) => {
      const batch = logsBatch(10, 32);
      const start = Date.parse(iso);
      batch.resourceLogs[0]!.scopeLogs[0]!.logRecords.forEach((record, i) => {
        record.timeUnixNano = nanos(start + i);
      });
      return gzipSync(JSON.stringify(batch));
    };
    const put = (body: Buffer) => putRaw('logs', body, uuidv7(), own('cache-1'));
    const early = at('2020-03-01T01:00:00Z');
    await put(early);
    const first = await compactAll({ store: store(), config: own('cache-1'), signals: ['logs'] });
    expect(first.files).toHaveLength(1);
    const earlyFile = first.files[0]!;
    const range = objectTimeRange(earlyFile);
    expect(range).toEqual({
      min: BigInt(Date.parse('2020-03-01T01:00:00Z')) * 1000n,
      max: BigInt(Date.parse('2020-03-01T01:00:00Z') + 9) * 1000n,
    });

    // Rows four hours later, same day partition: the early object's keys cannot match, so it is not even fetched.
    await put(at('2020-03-01T05:00:00Z'));
    const later = await compactAll({ store: store(), config: own('cache-2'), signals: ['logs'] });
    expect(later.signals.logs).toMatchObject({ rowsIn: 10, rowsOut: 10, duplicates: 0 });
    expect(existsSync(join(work, 'cache-2', earlyFile))).toBe(false);

    // The early batch delivered again: its rows meet the early object's range, which is read, and all are dropped.
    await put(early);
    const again = await compactAll({ store: store(), config: own('cache-3'), signals: ['logs'] });
    expect(again.signals.logs).toMatchObject({ rowsIn: 10, rowsOut: 0, duplicates: 10 });
    expect(existsSync(join(work, 'cache-3', earlyFile))).toBe(true);
    expect(
      Number(
        (
          await queryLake(`SELECT count(*) AS n FROM logs WHERE dt = '2020-03-01'`, {
            store: store(),
            config: own('cache-4'),
          })
        ).rows[0]!.n,
      ),
    ).toBe(20);
  }, 120_000);
});

describe('A compaction run longer than one database holds', () => {
  it('goes on in a fresh database past compactionSeenKeys keys, reading back what it wrote, and drops every duplicate', async () => {
    const outcome = async (name: string, seenKeys: number) => {
      const own: LakeConfig = {
        ...lakeUnder(`${base}${name}/`, join(work, `${name}-cache`)),
        // Each object (1 100 records of 1 KiB) is a pass of its own.
        compactionPassMb: 1,
        compactionSeenKeys: seenKeys,
      };
      const first = gzipSync(JSON.stringify(logsBatch(1_100, 1024)));
      await putRaw('logs', first, uuidv7(), own);
      for (let i = 0; i < 3; i++) await putRaw('logs', logsBatch(1_100, 1024), uuidv7(), own);
      // The first batch delivered again, after three more passes.
      await putRaw('logs', first, uuidv7(), own);
      const result = await compactAll({ store: store(), config: own, signals: ['logs'] });
      const firstFile = result.files[0]!;
      return {
        stats: result.signals.logs,
        files: result.files.length,
        readBack: existsSync(join(own.cacheDir, firstFile)),
      };
    };

    // One database for the run: the first pass's keys are still in `seen`, nothing is read back.
    const one = await outcome('one-database', 100_000);
    expect(one.stats).toMatchObject({ rowsIn: 5_500, rowsOut: 4_400, duplicates: 1_100 });
    expect(one.files).toBe(4);
    expect(one.readBack).toBe(false);

    // A fresh database after every pass: the first pass's object is read back (its range meets the redelivered
    // rows') and every redelivered row is still dropped.
    const many = await outcome('fresh-databases', 1_000);
    expect(many.stats).toMatchObject({ rowsIn: 5_500, rowsOut: 4_400, duplicates: 1_100 });
    expect(many.files).toBe(4);
    expect(many.readBack).toBe(true);
  }, 180_000);
});
