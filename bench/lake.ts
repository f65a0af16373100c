/**
 * Compaction throughput and peak memory per signal: N rows of one signal as raw objects (gzip OTLP JSON, as the
 * Collector's awss3 exporter writes them) in the local stack's S3 store, compacted in a fresh child process so its
 * peak RSS is its own (sampled every 20 ms, and the kernel's maxRSS). Objects go under `bench/` so the real lake is
 * untouched. Needs the stack (`npx observatory stack up`).
 *
 *   node bench/lake.ts [--rows 1000000] [--per-object 2000] [--signals events,logs,metrics,traces]
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { compact, lakeConfig, LAKE_SIGNALS, type LakeConfig, type LakeSignal } from '../lake/index.ts';
import { S3Store } from '../common/s3-store.ts';
import { uuidv7 } from '../tracker/uuidv7.ts';
import { failedFigure, printFigures, type Figure } from './report.ts';

function benchConfig(prefix: string): LakeConfig {
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

async function child(signal: LakeSignal, prefix: string): Promise<void> {
  const config = benchConfig(prefix);
  const store = S3Store.fromSettings(config.s3);
  const keys = (await store.list(config.raw[signal])).map((o) => o.key);
  global.gc?.();
  const baseMb = process.memoryUsage().rss / 2 ** 20;
  let peak = baseMb;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss / 2 ** 20)), 20);
  const start = performance.now();
  const result = await compact(keys, { store, config });
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.resourceUsage().maxRSS / 1024);
  const stats = result.signals[signal];
  console.log(JSON.stringify({ seconds, peakMb: peak, baseMb, ...stats }));
}

/** Uploads `rows` rows of the signal; 1 % of the objects are redelivered (the same object under a second key). */
async function generate(
  signal: LakeSignal,
  prefix: string,
  rows: number,
  perObject: number,
): Promise<{ objects: number; bytes: number }> {
  const config = benchConfig(prefix);
  const store = S3Store.fromSettings(config.s3);
  let objects = 0;
  let bytes = 0;
  const uploads: Promise<void>[] = [];
  for (let offset = 0; offset < rows; offset += perObject) {
    const count = Math.min(perObject, rows - offset);
    const body = gzipSync(JSON.stringify(DOCUMENTS[signal](count, offset)));
    const hour = String(Math.floor(offset / (rows / 4 + 1))).padStart(2, '0');
    const key = `${config.raw[signal]}year=2026/month=11/day=01/hour=${hour}/${signal}_${uuidv7()}.json.gz`;
    uploads.push(store.put(key, body, 'application/json'));
    objects++;
    bytes += body.length;
    if (objects % 100 === 1) {
      uploads.push(store.put(key.replace(/\.json\.gz$/, '-again.json.gz'), body, 'application/json'));
      objects++;
    }
    if (uploads.length >= 8) await Promise.all(uploads.splice(0));
  }
  await Promise.all(uploads);
  return { objects, bytes };
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

const DOCUMENTS: Record<LakeSignal, (count: number, offset: number) => object> = {
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
  logs: (count, offset) => ({
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
              body: { stringValue: `request ${offset + i} served` },
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
  traces: (count, offset) => ({
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
              ],
              status: {},
            })),
          },
        ],
      },
    ],
  }),
};

/** The command line (`npm run bench -- lake [options]` or `node bench/lake.ts`); returns the figures. */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string', default: '1000000' },
      'per-object': { type: 'string', default: '2000' },
      signals: { type: 'string', default: LAKE_SIGNALS.join(',') },
      child: { type: 'string' },
      prefix: { type: 'string' },
    },
  });
  const rows = Number(values.rows);
  const perObject = Number(values['per-object']);
  if (values.child) {
    await child(values.child as LakeSignal, values.prefix!);
    return [];
  }
  const figures: Figure[] = [];
  console.log(
    `compaction of ${rows.toLocaleString('en-US')} rows per signal (raw objects of ${perObject} rows, gzip OTLP JSON, ` +
      `local S3 store, DuckDB memory limit ${lakeConfig().compactionMemoryMb} MB; fresh process each):`,
  );
  for (const signal of values.signals.split(',') as LakeSignal[]) {
    const prefix = `bench/${uuidv7()}/`;
    const generated = await generate(signal, prefix, rows, perObject);
    const run = spawnSync(
      process.execPath,
      [fileURLToPath(import.meta.url), '--child', signal, '--prefix', prefix, '--rows', String(rows)],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    if (run.status !== 0) {
      console.log(`  ${signal}: failed: ${run.stderr}`);
      figures.push(failedFigure(`lake.${signal}`, `Compaction of ${signal}`, run.stderr));
      continue;
    }
    const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      seconds: number;
      peakMb: number;
      baseMb: number;
      rowsIn: number;
      rowsOut: number;
      duplicates: number;
    };
    console.log(
      `  ${signal.padEnd(8)} ${r.rowsIn.toLocaleString('en-US').padStart(9)} rows in, ${r.rowsOut.toLocaleString('en-US').padStart(9)} out, ` +
        `${r.duplicates.toLocaleString('en-US')} duplicates: ${r.seconds.toFixed(1)} s ` +
        `(${Math.round(r.rowsIn / r.seconds).toLocaleString('en-US')} rows/s), peak RSS ${r.peakMb.toFixed(0)} MB ` +
        `(${r.baseMb.toFixed(0)} MB before); raw ${generated.objects} objects, ${(generated.bytes / 2 ** 20).toFixed(0)} MB gzip`,
    );
    figures.push(
      {
        id: `lake.${signal}.rate`,
        figure: `Compaction of ${r.rowsIn} ${signal} rows: rows/s`,
        ours: r.rowsIn / r.seconds,
        unit: 'rows/s',
        better: 'higher',
      },
      {
        id: `lake.${signal}.peak`,
        figure: `Compaction of ${r.rowsIn} ${signal} rows: peak RSS`,
        ours: r.peakMb,
        unit: 'MiB',
        better: 'lower',
      },
    );
  }
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
