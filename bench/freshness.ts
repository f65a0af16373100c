/**
 * How fresh the telemetry is (P4), on the running local stack and the demo platform: for each of N searches through
 * the gateway, the time from the response to the moment Jaeger returns its trace by ID; and for the `search_made`
 * event each search records, the time until an object in S3 `raw/events/` contains its trace ID. Reports p50 and
 * p95 of both. The curated lake is one compaction cycle behind by design (the demo compacts every minute). With
 * `--burst N` it first sends N demo-like spans at `--burst-rate` spans/s through the stack's Collector (bench/lib/
 * span-burst.ts), then the searches start at once: freshness in the minute after a burst. bench/jaeger.ts measures
 * both, quiet and after a burst, for each Jaeger store side by side.
 *
 *   npm run bench -- freshness [--requests 200] [--concurrency 8] [--burst 1000000 [--burst-rate 10000]]
 */
import { parseArgs } from 'node:util';
import { localStackPorts } from '../common/config.ts';
import { pollUntil, sleep } from '../common/poll.ts';
import { S3Store } from '../common/s3-store.ts';
import { startPlatform } from '../demo/platform.ts';
import { Stack } from '../stack/stack.ts';
import { sendBurst } from './lib/span-burst.ts';
import type { Figure } from './report.ts';

export async function runFreshnessBench(options: {
  requests: number;
  concurrency: number;
  /** Spans sent through the Collector before the searches start. @default 0 */
  burst?: number;
  burstRate?: number;
}): Promise<Figure[]> {
  const stack = new Stack({ say: () => {} });
  const wasUp = (await stack.status()).healthy;
  if (!(await stack.up()).healthy) throw new Error('the local stack is not healthy');
  const platform = await startPlatform({ freePorts: true });
  const jaeger = `http://127.0.0.1:${localStackPorts().jaeger.query}`;
  const store = S3Store.fromSettings(stack.config.s3);
  // Objects already in raw/events/ are not this run's; the watcher runs while the requests do.
  const events = watchEvents(store, new Set((await store.list('raw/events/')).map((o) => o.key)));
  const burst = options.burst ?? 0;
  try {
    if (burst > 0) {
      const url = `http://127.0.0.1:${stack.config.collector.otlpHttp}/v1/traces`;
      const sent = await sendBurst(url, {
        spans: burst,
        rate: options.burstRate ?? 10_000,
        spansPerTrace: 8,
      });
      process.stderr.write(`freshness: burst of ${sent.sent} spans sent in ${sent.seconds.toFixed(0)} s\n`);
    }
    const traceLatency: number[] = [];
    const answered: { traceId: string; at: number }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < options.requests) {
        const i = next++;
        const response = await fetch(
          `${platform.urls.gateway}/api/scenes?bbox=2,48,3,49&from=2026-06-01&to=2026-06-03&limit=3&i=${i}`,
        );
        await response.arrayBuffer();
        const at = performance.now();
        const traceId = response.headers.get('traceresponse')!.split('-')[1]!;
        answered.push({ traceId, at });
        await pollUntil(
          `trace ${traceId} in Jaeger`,
          async () => ((await fetch(`${jaeger}/api/traces/${traceId}`)).ok ? true : undefined),
          { timeoutMs: 60_000, intervalMs: 50 },
        );
        traceLatency.push(performance.now() - at);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const eventLatency = await events.latencies(answered);
    const after = burst > 0 ? `, after a burst of ${burst} spans` : '';
    return [
      figure(
        'P4.trace.p50',
        `Request end → trace found in Jaeger${after}, p50`,
        percentile(traceLatency, 0.5),
      ),
      figure(
        'P4.trace.p95',
        `Request end → trace found in Jaeger${after}, p95`,
        percentile(traceLatency, 0.95),
        burst > 0 ? 5000 : 1000,
      ),
      figure(
        'P4.event.p50',
        `Request end → its event in S3 raw/events/${after}, p50`,
        percentile(eventLatency, 0.5),
      ),
      figure(
        'P4.event.p95',
        `Request end → its event in S3 raw/events/${after}, p95`,
        percentile(eventLatency, 0.95),
      ),
    ];
  } finally {
    events.stop();
    await platform.stop();
    if (!wasUp) await stack.down();
  }
}

/**
 * When each request's event reached S3, watched while the requests run: the store is listed every 250 ms, and every
 * trace ID in a new object is stamped with the time the object was first seen (an upper bound on its arrival, by one
 * poll). `latencies` waits until every answered request's event has been seen.
 */
function watchEvents(store: S3Store, seen: Set<string>) {
  const arrivals = new Map<string, number>();
  let running = true;
  const watching = (async () => {
    while (running) {
      const now = performance.now();
      for (const object of await store.list('raw/events/')) {
        if (seen.has(object.key)) continue;
        seen.add(object.key);
        const text = await store.getText(object.key);
        for (const [traceId] of text.matchAll(/[0-9a-f]{32}/g))
          if (!arrivals.has(traceId)) arrivals.set(traceId, now);
      }
      await sleep(250);
    }
  })();
  return {
    stop: () => {
      running = false;
    },
    async latencies(answered: { traceId: string; at: number }[]): Promise<number[]> {
      await pollUntil(
        `${answered.length} search_made events in raw/events/`,
        async () => (answered.every((a) => arrivals.has(a.traceId)) ? true : undefined),
        { timeoutMs: 120_000, intervalMs: 250 },
      );
      running = false;
      await watching;
      return answered.map((a) => arrivals.get(a.traceId)! - a.at);
    },
  };
}

function figure(id: string, name: string, ms: number, target?: number): Figure {
  return { id, figure: name, ours: ms, unit: 'ms', target, better: 'lower' };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** The command line (`npm run bench -- <name>` or `node bench/<name>.ts`). */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '8' },
      burst: { type: 'string', default: '0' },
      'burst-rate': { type: 'string', default: '10000' },
    },
  });
  const figures = await runFreshnessBench({
    requests: Number(values.requests),
    concurrency: Number(values.concurrency),
    burst: Number(values.burst),
    burstRate: Number(values['burst-rate']),
  });
  const { printFigures } = await import('./report.ts');
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
