/**
 * Compaction at production volume: one arrival hour of one signal at a steady rate, as the Collector's awss3
 * exporter writes it (OTLP JSON, gzip — zstd for traces —, one object per batch: at 1 000 records/s the batcher's
 * 1 s timeout fires first, so one object of 1 000 records a second, 3 600 objects in the hour), uploaded to the
 * local stack's S3 store and compacted in a fresh child process, the one `observatory lake compact` runs
 * (lake/compact-process.ts: built, as an ETL compaction sandbox runs it, unless `--runtime sources`). Reports rows/s and the child's peak RSS, read from
 * /proc (VmHWM: the kernel's high-water mark of the whole process, the staging worker thread and DuckDB included),
 * beside the figures before issue 23 and the 256 MiB target. Objects go under `bench/` so the real lake is untouched.
 * Needs the stack (`npx observatory stack up`).
 *
 *   npm run bench -- lake [--rate 1000] [--seconds 3600] [--body 1024] [--signals logs,traces] [--runtime sandbox|sources]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { lakeConfig, LAKE_SIGNALS, type LakeConfig, type LakeSignal } from '../lake/index.ts';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { S3Store } from '../common/s3-store.ts';
import { compactInChild, type CompactionReport } from '../lake/compact-process.ts';
import { uuidv7 } from '../tracker/uuidv7.ts';
import { failedFigure, printFigures, type Figure } from './report.ts';

export interface Load {
  rate: number;
  seconds: number;
  body: number;
}

/** The lake config of a bench run: every zone under `prefix`, so the real lake is untouched. */
export function benchConfig(prefix: string): LakeConfig {
  const base = lakeConfig();
  return {
    ...base,
    raw: {
      events: `${prefix}raw/events/`,
      logs: `${prefix}raw/logs/`,
      metrics: `${prefix}raw/metrics/`,
      traces: `${prefix}raw/traces/`,
    },
    curatedPrefix: `${prefix}curated/`,
    manifestPrefix: `${prefix}lake/manifest/`,
  };
}

/**
 * Uploads one hour folder of the signal: `rate × seconds` records in objects of one second each (at most the
 * batcher's 4 096); one object in `redeliveredEvery` is redelivered (the same object under a second key; 0: none).
 * Returns the keys written (bench/sandbox.ts compacts them as one ETL chunk).
 */
export async function generateRaw(
  signal: LakeSignal,
  prefix: string,
  load: Load,
  redeliveredEvery = 100,
): Promise<{ objects: number; bytes: number; keys: string[] }> {
  const config = benchConfig(prefix);
  const store = S3Store.fromSettings(config.s3);
  const perObject = Math.min(4096, load.rate);
  const rows = load.rate * load.seconds;
  const extension = signal === 'traces' ? 'json.zst' : 'json.gz';
  const compress = signal === 'traces' ? zstdCompressSync : gzipSync;
  const keys: string[] = [];
  let bytes = 0;
  const uploads: Promise<void>[] = [];
  const put = (key: string, body: Buffer) => {
    uploads.push(store.put(key, body, 'application/json'));
    keys.push(key);
    bytes += body.length;
  };
  for (let offset = 0; offset < rows; offset += perObject) {
    const count = Math.min(perObject, rows - offset);
    const body = compress(JSON.stringify(DOCUMENTS[signal](count, offset, load.body)));
    const key = `${config.raw[signal]}year=2026/month=11/day=01/hour=09/${signal}_${uuidv7()}.${extension}`;
    put(key, body);
    if (redeliveredEvery > 0 && keys.length % redeliveredEvery === 1)
      put(key.replace(/\.json/, '-again.json'), body);
    if (uploads.length >= 8) await Promise.all(uploads.splice(0));
  }
  await Promise.all(uploads);
  return { objects: keys.length, bytes, keys };
}

/** Words to cut bodies and attribute values from: text that compresses about as well as real logs (≈ 3×). */
const WORDS = Array.from({ length: 20_000 }, () => randomBytes(3 + (randomBytes(1)[0]! % 6)).toString('hex'))
  .join(' ')
  .slice(0, 1 << 17);
/** `length` characters of text, different from record to record. */
function text(length: number, seed: number): string {
  const from = (seed * 7919) % (WORDS.length - length - 1);
  return WORDS.slice(from, from + length);
}

const kv = (key: string, value: object) => ({ key, value });
const DAY = Date.UTC(2026, 10, 1);
const nanos = (ms: number) => String(BigInt(Math.round(ms)) * 1_000_000n);
const resource = (service: string) => ({
  attributes: [
    kv('service.name', { stringValue: service }),
    kv('service.version', { stringValue: '0.1.0' }),
    kv('deployment.environment.name', { stringValue: 'bench' }),
  ],
});

/** One object's document; `size` is the log body's or the span's extra attribute's length. */
const DOCUMENTS: Record<LakeSignal, (count: number, offset: number, size: number) => object> = {
  events: (count, offset) => ({
    resourceLogs: [
      {
        resource: resource('catalog'),
        scopeLogs: [
          {
            logRecords: Array.from({ length: count }, (_, i) => ({
              timeUnixNano: nanos(DAY - ((offset + i) % 7) * 86_400_000 + i),
              eventName: 'search_made',
              traceId: randomBytes(16).toString('hex'),
              spanId: randomBytes(8).toString('hex'),
              body: {
                kvlistValue: {
                  values: [
                    kv('query', { stringValue: `ndvi tile ${offset + i}` }),
                    kv('n_results', { intValue: String(i % 50) }),
                    kv('user_id', { stringValue: `u-${i % 1000}` }),
                  ],
                },
              },
              attributes: [
                kv('event.id', { stringValue: uuidv7() }),
                kv('event.schema_version', { stringValue: '1-0-0' }),
              ],
            })),
          },
        ],
      },
    ],
  }),
  logs: (count, offset, bodyBytes) => ({
    resourceLogs: [
      {
        resource: resource('gateway'),
        scopeLogs: [
          {
            scope: { name: 'pino' },
            logRecords: Array.from({ length: count }, (_, i) => ({
              timeUnixNano: nanos(DAY + (offset + i) * 10),
              severityNumber: 9,
              severityText: 'info',
              body: { stringValue: `request ${offset + i} served: ${text(bodyBytes - 30, offset + i)}` },
              attributes: [kv('http.route', { stringValue: '/api/scenes' }), kv('pid', { intValue: '4242' })],
              traceId: randomBytes(16).toString('hex'),
              spanId: randomBytes(8).toString('hex'),
            })),
          },
        ],
      },
    ],
  }),
  metrics: (count, offset) => ({
    resourceMetrics: [
      {
        resource: resource('gateway'),
        scopeMetrics: [
          {
            scope: { name: 'bench' },
            metrics: [
              {
                name: 'http.server.request.duration',
                unit: 's',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: Array.from({ length: Math.ceil(count / 2) }, (_, i) => ({
                    attributes: [kv('http.route', { stringValue: `/r/${i % 20}` })],
                    startTimeUnixNano: nanos(DAY),
                    timeUnixNano: nanos(DAY + (offset + i) * 1000),
                    count: '100',
                    sum: 12.5,
                    bucketCounts: ['10', '20', '30', '20', '10', '5', '3', '1', '1', '0', '0', '0'],
                    explicitBounds: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5],
                  })),
                },
              },
              {
                name: 'etl.chunks',
                unit: '{chunk}',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: Array.from({ length: Math.floor(count / 2) }, (_, i) => ({
                    attributes: [
                      kv('outcome', { stringValue: 'processed' }),
                      kv('job', { stringValue: `j-${i % 50}` }),
                    ],
                    startTimeUnixNano: nanos(DAY),
                    timeUnixNano: nanos(DAY + (offset + i) * 1000),
                    asInt: String(offset + i),
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  }),
  traces: (count, offset, attributeBytes) => ({
    resourceSpans: [
      {
        resource: resource('catalog'),
        scopeSpans: [
          {
            scope: { name: '@opentelemetry/instrumentation-http' },
            spans: Array.from({ length: count }, (_, i) => ({
              traceId: randomBytes(16).toString('hex'),
              spanId: randomBytes(8).toString('hex'),
              parentSpanId: randomBytes(8).toString('hex'),
              name: 'GET /scenes',
              kind: 2,
              startTimeUnixNano: nanos(DAY + (offset + i) * 10),
              endTimeUnixNano: nanos(DAY + (offset + i) * 10 + 35),
              attributes: [
                kv('http.route', { stringValue: '/scenes' }),
                kv('http.response.status_code', { intValue: '200' }),
                kv('url.path', { stringValue: `/scenes/${i}` }),
                kv('db.query.text', { stringValue: text(attributeBytes - 80, offset + i) }),
              ],
              status: {},
            })),
          },
        ],
      },
    ],
  }),
};

/**
 * Before issue 23 (commit 1c1fc7e, 2026-12-04, this bench with `--seconds 600`: 607 000 rows of 1 KiB, load average
 * ≈ 35 on 2 cores): rows/s and peak RSS (MiB), per signal. Compare runs of the same load.
 */
const BEFORE: Partial<Record<LakeSignal, { rate: number; peakMb: number }>> = {
  logs: { rate: 1202, peakMb: 440 },
  traces: { rate: 1564, peakMb: 419 },
};
const PEAK_TARGET_MB = 256;

/** The command line (`npm run bench -- lake [options]` or `node bench/lake.ts`); returns the figures. */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '3600' },
      body: { type: 'string', default: '1024' },
      signals: { type: 'string', default: 'logs,traces' },
      runtime: { type: 'string', default: 'sandbox' },
    },
  });
  const load: Load = {
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    body: Number(values.body),
  };
  const figures: Figure[] = [];
  console.log(
    `compaction of one arrival hour: ${load.rate} records/s for ${load.seconds} s, ${load.body} B bodies (logs) or ` +
      `attributes (spans), as the Collector writes them, from the local S3 store, DuckDB memory limit ` +
      `${lakeConfig().compactionMemoryMb} MB; fresh process each, peak RSS from /proc:`,
  );
  for (const signal of values.signals.split(',') as LakeSignal[]) {
    if (!LAKE_SIGNALS.includes(signal))
      throw new Error(`--signals: unknown signal ${JSON.stringify(signal)}`);
    figures.push(...(await measure(signal, load, values.runtime)));
  }
  printFigures(figures);
  return figures;
}

async function measure(signal: LakeSignal, load: Load, runtime: string): Promise<Figure[]> {
  if (runtime !== 'sandbox' && runtime !== 'sources')
    throw new Error('--runtime: expected sandbox or sources');
  const prefix = `bench/${uuidv7()}/`;
  let generated: Awaited<ReturnType<typeof generateRaw>>;
  let report: CompactionReport;
  try {
    generated = await generateRaw(signal, prefix, load);
    report = await compactInChild({
      config: benchConfig(prefix),
      keys: generated.keys,
      runtime: runtime === 'sandbox' ? 'built' : 'sources',
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.log(`  ${signal}: failed: ${reason}`);
    return [failedFigure(`lake.${signal}`, `Compaction of an hour of ${signal}`, reason)];
  } finally {
    // An hour is gigabytes and thousands of objects: left behind, every later listing of the bucket pays for them.
    await removeUnder(S3Store.fromSettings(benchConfig(prefix).s3), prefix);
  }
  const r = {
    ...report.result.signals[signal],
    seconds: report.seconds,
    peakMb: report.peakMb,
    baseMb: report.baseMb,
  };
  const n = (x: number) => x.toLocaleString('en-US');
  console.log(
    `  ${signal.padEnd(8)} ${n(r.rowsIn).padStart(9)} rows in, ${n(r.rowsOut).padStart(9)} out, ` +
      `${n(r.duplicates)} duplicates, ${r.failed} objects failed: ${r.seconds.toFixed(1)} s ` +
      `(${n(Math.round(r.rowsIn / r.seconds))} rows/s), peak RSS ${r.peakMb.toFixed(0)} MiB ` +
      `(${r.baseMb.toFixed(0)} MiB before); raw ${generated.objects} objects, ${(generated.bytes / 2 ** 20).toFixed(0)} MiB compressed`,
  );
  const before = BEFORE[signal];
  const what = `Compaction of an hour of ${signal} (${n(r.rowsIn)} rows, ${load.body} B)`;
  return [
    {
      id: `lake.${signal}.rate`,
      figure: `${what}: rows/s`,
      ours: r.rowsIn / r.seconds,
      baseline: before?.rate,
      baselineName: before ? 'before issue 23' : undefined,
      unit: 'rows/s',
      better: 'higher',
    },
    {
      id: `lake.${signal}.peak`,
      figure: `${what}: peak RSS`,
      ours: r.peakMb,
      baseline: before?.peakMb,
      baselineName: before ? 'before issue 23' : undefined,
      unit: 'MiB',
      target: PEAK_TARGET_MB,
      better: 'lower',
    },
  ];
}

/** Deletes every object under the prefix, a thousand a request. */
export async function removeUnder(store: S3Store, prefix: string): Promise<void> {
  const keys = (await store.list(prefix)).map(({ key }) => key);
  for (let i = 0; i < keys.length; i += 1000) {
    await store.client.send(
      new DeleteObjectsCommand({
        Bucket: store.bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
}

if (import.meta.main) await cli();
