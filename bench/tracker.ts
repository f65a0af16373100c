/**
 * What business events cost: `track()` per call (validation on and off, the rejected path, and the worst case: the
 * most hostile events under the size limit a caller can pass; in TypeScript and in Python), the events per
 * second one core pushes into the SDK (batch processor, exporter that does nothing: the network is not measured),
 * and the time and peak memory of compaction per N events against the local stack's S3 store. Each compaction size
 * runs in a fresh child process so its peak RSS is its own; objects go under `bench/` so the real lake is untouched.
 *
 *   node bench/tracker.ts [--calls 200000] [--sizes 10000,50000,100000] [--per-object 1000]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ExportResultCode } from '@opentelemetry/core';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { compact, lakeConfig } from '../lake/index.ts';
import { REPO_ROOT, STATE_ROOT } from '../common/paths.ts';
import { S3Store } from '../common/s3-store.ts';
import { EVENTS } from '../tracker/events/index.ts';
import { Tracker, uuidv7 } from '../tracker/index.ts';
import { failedFigure, printFigures, type Figure } from './report.ts';

/** Calls between two turns of the event loop in the track() measurement. */
const TICK = 500;

/** The command line (`npm run bench -- tracker [options]` or `node bench/tracker.ts`); returns the figures. */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      calls: { type: 'string', default: '200000' },
      sizes: { type: 'string', default: '10000,50000,100000' },
      'per-object': { type: 'string', default: '1000' },
      child: { type: 'string' },
    },
  });
  const perObject = Number(values['per-object']);
  if (values.child) {
    await compactionChild(Number(values.child), perObject);
    return [];
  }
  const figures = await trackCost(Number(values.calls));
  figures.push(await worstCaseTrack());
  figures.push(...pythonTrackCost(Number(values.calls)));
  figures.push(...compactionRuns(values.sizes.split(',').map(Number), perObject));
  printFigures(figures);
  return figures;
}

async function trackCost(calls: number): Promise<Figure[]> {
  const figures: Figure[] = [];
  const exporter: LogRecordExporter = {
    export: (_records, done) => done({ code: ExportResultCode.SUCCESS }),
    shutdown: async () => {},
    forceFlush: async () => {},
  };
  const variants: [string, { validate: boolean }, (obs: Tracker<typeof EVENTS>, i: number) => void][] = [
    [
      'valid event, validation on',
      { validate: true },
      (obs, i) => obs.track('search_made', { query: 'ndvi paris', n_results: i, user_id: 'u-1' }),
    ],
    [
      'valid event, validation off',
      { validate: false },
      (obs, i) => obs.track('search_made', { query: 'ndvi paris', n_results: i, user_id: 'u-1' }),
    ],
    [
      'schema violation (rejected)',
      { validate: true },
      (obs, i) => obs.track('search_made', { query: 'ndvi', n_results: -i - 1, user_id: 'u-1' }),
    ],
  ];
  console.log(
    `track() cost, ${calls} calls per variant, default batch processor (queue 2048, batches of 512), no-op exporter,` +
      ` the event loop turning every ${TICK} calls so the processor exports as it would in a service:`,
  );
  for (const [name, options, call] of variants) {
    let exported = 0;
    const provider = new LoggerProvider({
      processors: [
        new BatchLogRecordProcessor({
          exporter: {
            ...exporter,
            export: (records, done) => {
              exported += records.length;
              exporter.export(records, done);
            },
          },
        }),
      ],
    });
    const obs = new Tracker({
      events: EVENTS,
      loggerProvider: provider,
      meterProvider: new MeterProvider(),
      ...options,
    });
    await timed(20_000, (i) => call(obs, i)); // warm-up: JIT and ajv's compiled validator
    const ns = (await timed(calls, (i) => call(obs, i))) / calls;
    await provider.forceFlush();
    console.log(
      `  ${name.padEnd(30)} ${(ns / 1000).toFixed(2)} µs/call   ${Math.round(1e9 / ns).toLocaleString('en-US')} events/s on one core` +
        `   (${exported.toLocaleString('en-US')} records exported)`,
    );
    figures.push({
      id: `P5.track.${name}`,
      figure: `track(): ${name}`,
      ours: ns / 1000,
      unit: 'µs',
      target: name === 'valid event, validation on' ? 3 : undefined,
      better: 'lower',
    });
    await provider.shutdown();
  }
  return figures;
}

/** Events a caller can pass under the 32 KB limit that make `track()` do the most work, each with its own name. */
function hostileEvents(): [string, Record<string, unknown>][] {
  const unknown: Record<string, unknown> = { query: 'q', n_results: -1, user_id: 'u' };
  for (let i = 0; i < 3777; i++) unknown[i.toString(36)] = 0;
  const wrongTypes: Record<string, unknown> = { query: 1, n_results: 'x', user_id: null };
  for (let i = 0; i < 200; i++) wrongTypes[`property_with_a_long_name_${i}_${'x'.repeat(60)}`] = { a: 1 };
  return [
    ['3 777 unknown properties', unknown],
    ['200 long unknown properties, declared ones of the wrong type', wrongTypes],
    ['the largest valid event', { query: 'q'.repeat(10_800), n_results: 1, user_id: 'u' }],
    ['a string of 10 800 non-ASCII characters', { query: 'é'.repeat(10_800), n_results: 1, user_id: 'u' }],
  ];
}

/**
 * The worst case of `track()` on the request path: the mean per call of the slowest hostile event (one such call
 * blocked the event loop for 952 ms when the error list was trimmed one entry at a time).
 */
async function worstCaseTrack(calls = 300): Promise<Figure> {
  const provider = new LoggerProvider({
    processors: [
      new BatchLogRecordProcessor({
        exporter: {
          export: (_records, done) => done({ code: ExportResultCode.SUCCESS }),
          shutdown: async () => {},
          forceFlush: async () => {},
        },
      }),
    ],
  });
  const obs = new Tracker({ events: EVENTS, loggerProvider: provider, meterProvider: new MeterProvider() });
  console.log(`\ntrack() on hostile events under the size limit, ${calls} calls each:`);
  let worst = 0;
  for (const [name, properties] of hostileEvents()) {
    const call = () => obs.track('search_made', properties as never);
    await timed(20, call);
    const ms = (await timed(calls, call)) / calls / 1e6;
    console.log(`  ${name.padEnd(62)} ${ms.toFixed(3)} ms/call`);
    worst = Math.max(worst, ms);
  }
  await provider.shutdown();
  return {
    id: 'P5.track.worst-case',
    figure: 'track(): worst case per call (hostile events under the size limit)',
    ours: worst,
    unit: 'ms',
    target: 1,
    better: 'lower',
  };
}

/**
 * The same variants in Python (bench/fixtures/track_python.py, in the virtualenv set-up builds): the process' CPU
 * per call, export thread included, beside the TypeScript figures above.
 */
function pythonTrackCost(calls: number): Figure[] {
  const python = join(STATE_ROOT, 'python', 'venv', 'bin', 'python');
  const id = 'P5.track.python';
  const run = spawnSync(python, [join(REPO_ROOT, 'bench', 'fixtures', 'track_python.py'), String(calls)], {
    encoding: 'utf8',
  });
  if (run.status !== 0) {
    const why = run.error?.message ?? run.stderr;
    console.log(`\nPython track(): failed (npm run setup builds ${python}): ${why}`);
    return [failedFigure(id, 'track() in Python', why)];
  }
  console.log(
    `\nPython track() cost, ${calls} calls per variant, the SDK's batch processor, no-op exporter:`,
  );
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const r = JSON.parse(line) as { variant: string; cpu_us_per_call: number; wall_us_per_call: number };
      console.log(
        `  ${r.variant.padEnd(30)} ${r.cpu_us_per_call.toFixed(2)} µs CPU/call   (${r.wall_us_per_call.toFixed(2)} µs wall)`,
      );
      return {
        id: `${id}.${r.variant}`,
        figure: `track() in Python: ${r.variant}`,
        ours: r.cpu_us_per_call,
        unit: 'µs',
        better: 'lower' as const,
      };
    });
}

/**
 * Runs `call` n times and returns the nanoseconds spent in the calls only: every TICK calls the event loop turns
 * (not timed), as it does between requests in a service, so the batch processor exports instead of queueing
 * everything (a queue of every record ever tracked would measure the garbage collector, not track()).
 */
async function timed(n: number, call: (i: number) => void): Promise<number> {
  let ns = 0n;
  for (let start = 0; start < n; start += TICK) {
    const begin = process.hrtime.bigint();
    for (let i = start; i < Math.min(n, start + TICK); i++) call(i);
    ns += process.hrtime.bigint() - begin;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return Number(ns);
}

function compactionRuns(sizes: number[], perObject: number): Figure[] {
  const figures: Figure[] = [];
  console.log(
    `\ncompaction (raw objects of ${perObject} events, gzip OTLP JSON, local S3 store; fresh process each):`,
  );
  for (const n of sizes) {
    const child = spawnSync(
      process.execPath,
      [fileURLToPath(import.meta.url), '--child', String(n), '--per-object', String(perObject)],
      {
        encoding: 'utf8',
      },
    );
    if (child.status !== 0) {
      console.log(`  N=${n}: failed: ${child.stderr}`);
      figures.push(failedFigure(`tracker.compaction.${n}`, `Compaction of ${n} events`, child.stderr));
      continue;
    }
    const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
      seconds: number;
      peakMb: number;
      baseMb: number;
      events: number;
    };
    console.log(
      `  N=${String(n).padStart(7)}: ${r.seconds.toFixed(2)} s, peak RSS ${r.peakMb.toFixed(0)} MB (${r.baseMb.toFixed(0)} MB before), ` +
        `${Math.round(n / r.seconds).toLocaleString('en-US')} events/s → ${((r.seconds * 1e6) / n / 60).toFixed(1)} min per million (linear extrapolation)`,
    );
    figures.push(
      {
        id: `tracker.compaction.${n}.rate`,
        figure: `Compaction of ${n} events: events/s`,
        ours: n / r.seconds,
        unit: 'events/s',
        better: 'higher',
      },
      {
        id: `tracker.compaction.${n}.peak`,
        figure: `Compaction of ${n} events: peak RSS`,
        ours: r.peakMb,
        unit: 'MiB',
        better: 'lower',
      },
    );
  }
  return figures;
}

async function compactionChild(n: number, perObject: number): Promise<void> {
  const base = lakeConfig();
  const runPrefix = `bench/${uuidv7()}/`;
  const config = {
    ...base,
    raw: { ...base.raw, events: `${runPrefix}raw/events/` },
    curatedPrefix: `${runPrefix}curated/`,
    manifestPrefix: `${runPrefix}lake/manifest/`,
  };
  const store = S3Store.fromSettings(config.s3);
  const keys: string[] = [];
  for (let offset = 0; offset < n; offset += perObject) {
    const count = Math.min(perObject, n - offset);
    const key = `${config.raw.events}year=2026/month=11/day=01/hour=00/bench-${offset}.json.gz`;
    await store.put(key, gzipSync(JSON.stringify(rawDocument(count, offset))), 'application/json');
    keys.push(key);
  }
  global.gc?.();
  const baseMb = process.memoryUsage().rss / 2 ** 20;
  let peak = baseMb;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss / 2 ** 20)), 20);
  const start = performance.now();
  const result = await compact(keys, { store, config });
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify({ seconds, peakMb: peak, baseMb, events: result.events }));
}

/** A raw object as the Collector writes it: one resource, `count` search_made records, days spread over a week. */
function rawDocument(count: number, offset: number) {
  const kv = (key: string, value: object) => ({ key, value });
  const day = Date.UTC(2026, 10, 1);
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [
            kv('service.name', { stringValue: 'bench' }),
            kv('service.version', { stringValue: '0.1.0' }),
          ],
        },
        scopeLogs: [
          {
            logRecords: Array.from({ length: count }, (_, i) => {
              const time = BigInt(day - ((offset + i) % 7) * 86_400_000 + i) * 1_000_000n;
              return {
                timeUnixNano: String(time),
                observedTimeUnixNano: String(time),
                eventName: 'search_made',
                traceId: '0af7651916cd43dd8448eb211c80319c',
                spanId: 'b7ad6b7169203331',
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
              };
            }),
          },
        ],
      },
    ],
  };
}

if (import.meta.main) await cli();
