/**
 * How long telemetry holds an app at its end, with the Collector down (a closed port: every export fails at once)
 * and with a Collector that never answers (a black hole: only our bound ends the wait; the exporter's own timeout is
 * set to ten minutes). The tests prove the bound (test/instrumentation/shutdown.test.ts, test/tracker/stack.test.ts);
 * the times are figures here:
 *  - the bench's Express app (bench/fixtures/app.cjs) under `--require ./instrumentation` with queued spans:
 *    SIGTERM → exit, bound OBSERVATORY_SHUTDOWN_TIMEOUT_MS;
 *  - the Tracker with queued events: `shutdown(bound)` → returned, in this process.
 * No stack needed. Medians over rounds.
 *
 *   npm run bench -- shutdown [--rounds 3] [--bound 2000] [--requests 50]
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { EVENTS } from '../tracker/events/index.ts';
import { Tracker } from '../tracker/index.ts';
import { appUrl, startApp } from './lib/fixture-app.ts';
import { printFigures, type Figure } from './report.ts';

/** A port nothing listens on: connections are refused at once. */
const CLOSED = 'http://127.0.0.1:9';
/** The exporters' own timeout: far past the bound, so that the bound alone ends a wait on the black hole. */
const EXPORTER_TIMEOUT_MS = 600_000;

interface Options {
  rounds: number;
  bound: number;
  requests: number;
}

/** A "Collector" that accepts connections and never answers. */
async function blackhole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      sockets.forEach((socket) => socket.destroy());
      server.close();
      await once(server, 'close');
    },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** SIGTERM → exit of the app under the preload with `requests` spans queued, in ms. */
async function preloadExit(endpoint: string, options: Options): Promise<number> {
  const app = await startApp(
    ['--require', './instrumentation'],
    {
      ...process.env,
      OTEL_SERVICE_NAME: 'bench-shutdown',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_TIMEOUT: String(EXPORTER_TIMEOUT_MS),
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      OTEL_METRICS_EXPORTER: 'none',
      OBSERVATORY_SHUTDOWN_TIMEOUT_MS: String(options.bound),
    },
    false,
  );
  for (let i = 0; i < options.requests; i++) await (await fetch(appUrl(app.port))).arrayBuffer();
  const exited = once(app.child, 'exit');
  const started = performance.now();
  app.child.kill('SIGTERM');
  await exited;
  return performance.now() - started;
}

/** Tracker.shutdown(bound) → returned, with 24 events queued, in ms. */
async function trackerShutdown(endpoint: string, options: Options): Promise<number> {
  const loggerProvider = new LoggerProvider({
    processors: [
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: `${endpoint}/v1/logs`, timeoutMillis: EXPORTER_TIMEOUT_MS }),
        scheduledDelayMillis: 600_000,
      }),
    ],
  });
  const tracker = new Tracker({ events: EVENTS, loggerProvider, meterProvider: new MeterProvider() });
  for (let i = 0; i < 24; i++)
    tracker.track('image_downloaded', { user_id: 'bench', img_id: `img-${i}`, image_size: 1000 + i });
  const started = performance.now();
  await tracker.shutdown(options.bound);
  return performance.now() - started;
}

async function measure(
  name: string,
  run: (endpoint: string, options: Options) => Promise<number>,
  options: Options,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const [collector, label] of [
    ['closed', 'the Collector down (closed port)'],
    ['blackhole', 'a Collector that never answers'],
  ] as const) {
    const samples: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const hole = collector === 'blackhole' ? await blackhole() : undefined;
      try {
        samples.push(await run(hole?.url ?? CLOSED, options));
      } finally {
        await hole?.close();
      }
    }
    process.stderr.write(`${name}, ${label}: ${samples.map((ms) => ms.toFixed(0)).join(', ')} ms\n`);
    figures.push({
      id: `shutdown.${name}.${collector}`,
      figure: `${name === 'preload' ? 'Preload: SIGTERM → exit' : 'Tracker: shutdown() → returned'} with ${label}, bound ${options.bound} ms`,
      ours: median(samples),
      unit: 'ms',
      // The limits the tests asserted before these times moved here: the bound plus start-up and scheduling slack.
      target: options.bound + (name === 'preload' ? 4000 : 1500),
      better: 'lower',
    });
  }
  return figures;
}

/** The command line (`npm run bench -- shutdown` or `node bench/shutdown.ts`); returns the figures. */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '3' },
      bound: { type: 'string', default: '2000' },
      requests: { type: 'string', default: '50' },
    },
  });
  const options: Options = {
    rounds: Number(values.rounds),
    bound: Number(values.bound),
    requests: Number(values.requests),
  };
  const figures = [
    ...(await measure('preload', preloadExit, options)),
    ...(await measure('tracker', trackerShutdown, options)),
  ];
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
