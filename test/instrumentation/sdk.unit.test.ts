/**
 * The SDK as the preload starts it, in-process with in-memory exporters: baggage on spans, the traceresponse header,
 * delivery counts, and a start failure that leaves the app running.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { InMemoryLogRecordExporter } from '@opentelemetry/sdk-logs';
import { InMemoryMetricExporter, AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { activeTraceId, deliveries, flush, logger } from '../../instrumentation/api.ts';
import { start, type Telemetry } from '../../instrumentation/src/sdk.ts';
import { REPO_ROOT } from '../../common/paths.ts';
import { formatTraceResponse } from '../../instrumentation/src/traceresponse.ts';

const spans = new InMemorySpanExporter();
const logs = new InMemoryLogRecordExporter();
let telemetry: Telemetry;

beforeAll(() => {
  // start() reads process.env itself (config.ts, and the resource detectors as the NodeSDK would).
  vi.stubEnv('OTEL_SERVICE_NAME', 'sdk-test');
  vi.stubEnv('OBSERVATORY_BAGGAGE_SPAN_ATTRIBUTES', 'user.id,session.id');
  telemetry = start({
    exporters: { spans, logs, metrics: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE) },
    handleSignals: false,
  })!;
  expect(telemetry).toBeDefined();
});

describe('The started SDK', () => {
  it('copies only allow-listed baggage entries onto spans', async () => {
    const baggage = propagation.createBaggage({
      'user.id': { value: 'u-42' },
      'session.id': { value: 's-7' },
      'credit.card': { value: '4111111111111111' },
    });
    context.with(propagation.setBaggage(context.active(), baggage), () => {
      trace.getTracer('test').startSpan('with-baggage').end();
    });
    await flush(2000);
    const span = spans.getFinishedSpans().find((s) => s.name === 'with-baggage')!;
    expect(span.attributes['user.id']).toBe('u-42');
    expect(span.attributes['session.id']).toBe('s-7');
    expect(span.attributes).not.toHaveProperty('credit.card');
  });

  it('answers every HTTP request with a traceresponse header equal to the server span context', async () => {
    // Required after start(), the way an app loads http under the preload.
    const http = createRequire(import.meta.url)('node:http') as typeof Http;
    const server = http.createServer((_req, res) => res.end(activeTraceId() ?? 'none'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    // The client's own span is suppressed so the traceparent below reaches the server as sent.
    const header = await new Promise<{ traceresponse: string; body: string }>((resolve, reject) => {
      context.with(suppressTracing(context.active()), () =>
        http
          .get(
            {
              host: '127.0.0.1',
              port,
              path: '/scenes',
              headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
            },
            (res) => {
              let body = '';
              res.on('data', (chunk: Buffer) => (body += chunk));
              res.on('end', () => resolve({ traceresponse: String(res.headers.traceresponse), body }));
            },
          )
          .on('error', reject),
      );
    });
    server.close();
    await flush(2000);
    const serverSpan = spans
      .getFinishedSpans()
      .find((s) => s.kind === 1 && s.attributes['url.path'] === '/scenes')!;
    expect(header.traceresponse).toBe(formatTraceResponse(serverSpan.spanContext()));
    expect(header.traceresponse).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(header.body).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('counts what it offered and what was delivered', async () => {
    const before = deliveries().spans;
    for (let i = 0; i < 10; i++) trace.getTracer('test').startSpan(`counted-${i}`).end();
    const result = await flush(2000);
    expect(result.completed).toBe(true);
    expect(result.deliveries.spans.offered - before.offered).toBe(10);
    expect(result.deliveries.spans.delivered - before.delivered).toBe(10);
    expect(result.deliveries.spans.dropped).toBe(0);
  });

  it('sends logger records with the trace context and service information', async () => {
    trace.getTracer('test').startActiveSpan('logging', (span) => {
      logger.info({ scene: 'S2A' }, 'scene searched');
      span.end();
    });
    await flush(2000);
    const record = logs.getFinishedLogRecords().find((r) => r.body === 'scene searched');
    expect(record?.spanContext?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(record?.resource.attributes['service.name']).toBe('sdk-test');
  });

  it('propagates W3C Trace Context Level 2: the random flag kept, an invalid tracestate dropped whole', () => {
    const incoming = {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03',
      tracestate: 'congo=t61rcWkgMzE,Rojo=00f067aa0ba902b7',
    };
    const parent = propagation.extract(ROOT_CONTEXT, incoming);
    const span = trace.getTracer('test').startSpan('continues', {}, parent);
    const outgoing: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), outgoing);
    span.end();
    expect(outgoing.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-03$/);
    expect(outgoing).not.toHaveProperty('tracestate');
  });

  it('returns the first telemetry when started twice', () => {
    expect(start({ handleSignals: false })).toBe(telemetry);
  });
});

describe('A start failure', () => {
  it('prints one line saying the app runs uninstrumented, and does not throw', async () => {
    const holder = globalThis as Record<symbol, unknown>;
    const saved = holder[Symbol.for('observatory.telemetry')];
    delete holder[Symbol.for('observatory.telemetry')];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const result = start({ exporters: { spans: 42 as never }, handleSignals: false });
      expect(result).toBeUndefined();
      const lines = stderr.mock.calls.map(([line]) => String(line));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^observatory: instrumentation failed to start \(.+\); the app runs uninstrumented\n$/,
      );
    } finally {
      stderr.mockRestore();
      holder[Symbol.for('observatory.telemetry')] = saved;
    }
  });

  it('leaves no half-started SDK behind when it fails after registering the global providers', async () => {
    // A fresh process: in this one the SDK is already registered.
    const child = spawn(process.execPath, ['test/instrumentation/fixtures/start-failure.mts'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, err).toBe(0);
    expect(err).toBe(
      'observatory: instrumentation failed to start (injected: signal handlers cannot be installed); the app runs uninstrumented\n',
    );
    expect(JSON.parse(out)).toEqual({
      started: false,
      recording: false,
      injected: [],
      exportedSpans: 0,
      appCounterExported: false,
      exportsLater: 0,
    });
  }, 60_000);
});
