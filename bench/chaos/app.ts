/**
 * The app the chaos scenarios drive: a plain HTTP server under the preload. Each `GET /work?id=<id>` makes exactly
 * three spans (the HTTP server span, `chaos.work`, `chaos.step`) and tracks one `search_made` event whose `query`
 * is the request's ID, so loss can be counted by ID in Jaeger and in the lake. Over IPC it answers `stats` with its
 * RSS, the instrumentation's delivery counts and the Tracker's counts (not over HTTP: that would add spans).
 *   node --require ./instrumentation bench/chaos/app.ts
 */
import http from 'node:http';
import { trace } from '@opentelemetry/api';
import { deliveries } from '../../instrumentation/api.ts';
import { EVENTS } from '../../tracker/events/index.ts';
import { Tracker, type TrackCounts } from '../../tracker/index.ts';

export interface AppStats {
  rss: number;
  deliveries: ReturnType<typeof deliveries>;
  tracked: TrackCounts;
}

const tracer = trace.getTracer('chaos-app');
const tracker = new Tracker({ events: EVENTS });

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname !== '/work') {
    res.statusCode = 404;
    res.end();
    return;
  }
  const id = url.searchParams.get('id') ?? '';
  const traceId = trace.getActiveSpan()?.spanContext().traceId;
  tracer.startActiveSpan('chaos.work', (span) => {
    tracer.startSpan('chaos.step').end();
    tracker.track('search_made', { query: id, n_results: 1, user_id: 'chaos' });
    span.end();
  });
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id, trace_id: traceId }));
});

process.on('message', (message) => {
  if (message !== 'stats') return;
  const stats: AppStats = {
    rss: process.memoryUsage().rss,
    deliveries: deliveries(),
    tracked: tracker.counts(),
  };
  process.send!(stats);
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`LISTENING ${typeof address === 'object' && address ? address.port : 0}\n`);
});
