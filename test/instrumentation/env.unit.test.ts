/**
 * The standard variables change what the OpenTelemetry spec and the NodeSDK say they change, and our defaults give
 * way to them. Each case runs the preload in a child process against a tiny OTLP/HTTP receiver (no stack); gRPC is
 * tested against the real Collector in preload.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { spawnNode } from '../support/spawn.ts';

const FIXTURE = 'test/instrumentation/fixtures/env-app.cjs';
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

/** Starts the app with `env`, sends one request, stops it with SIGTERM (which flushes), returns what arrived. */
async function serveOne(env: Record<string, string>, headers: Record<string, string> = {}) {
  const before = receiver.requests.length;
  const app = spawnNode(['--require', './instrumentation', FIXTURE], {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'env-test',
    ...env,
  });
  try {
    const [, port] = await app.waitForLine(/^LISTENING (\d+)$/);
    const response = await fetch(`http://127.0.0.1:${port}/scenes/S2A`, { headers });
    expect(response.status).toBe(200);
    app.child.kill('SIGTERM');
    await app.exited;
    const requests = receiver.requests.slice(before);
    const all = receiver.spans();
    const spans = all.slice(all.length - countSpans(requests));
    const server = spans.find(
      (s) => s.name.startsWith('GET') && s.scope.includes('http') && s.attributes['url.path'],
    );
    return { response, requests, spans, server, stdout: app.stdout.join('\n') };
  } finally {
    await app.stop();
  }
}

function countSpans(requests: OtlpReceiver['requests']): number {
  return requests
    .flatMap((r) => r.json?.resourceSpans ?? [])
    .flatMap((rs) => rs.scopeSpans)
    .reduce((n, ss) => n + ss.spans.length, 0);
}

const traceparent = (flags = '01') => ({ traceparent: `00-${TRACE_ID}-b7ad6b7169203331-${flags}` });

describe('The standard OTEL_* variables', () => {
  it('by default: OTLP over the chosen protocol, W3C propagation, our curated set (no fs spans), a 4096 value limit', async () => {
    const { response, server, spans } = await serveOne(
      {},
      { ...traceparent(), 'user-agent': 'u'.repeat(5000) },
    );
    expect(response.headers.get('traceresponse')).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(server?.attributes['http.route']).toBe('/scenes/:id');
    expect(server?.resource['service.name']).toBe('env-test');
    expect(server?.attributes['user_agent.original']).toHaveLength(4096);
    expect(spans.some((s) => s.scope.includes('instrumentation-fs'))).toBe(false);
  });

  it('OTEL_TRACES_SAMPLER=always_off records nothing, and the traceresponse says so', async () => {
    const { response, spans } = await serveOne({ OTEL_TRACES_SAMPLER: 'always_off' });
    expect(response.headers.get('traceresponse')).toMatch(/-00$/);
    expect(spans).toHaveLength(0);
  });

  it('OTEL_TRACES_SAMPLER=parentbased_always_off still follows a sampled parent', async () => {
    const { response, spans } = await serveOne(
      { OTEL_TRACES_SAMPLER: 'parentbased_always_off' },
      traceparent('01'),
    );
    expect(response.headers.get('traceresponse')).toMatch(/-01$/);
    expect(spans.some((s) => s.traceId === TRACE_ID)).toBe(true);
  });

  it('OTEL_PROPAGATORS=b3 continues a B3 trace', async () => {
    const b3TraceId = '80f198ee56343ba864fe8b2a57d3eff7';
    const { response } = await serveOne(
      { OTEL_PROPAGATORS: 'b3' },
      { b3: `${b3TraceId}-e457b5a2e4d86bd1-1`, ...traceparent() },
    );
    expect(response.headers.get('traceresponse')).toContain(b3TraceId);
  });

  it('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT wins over our 4096 default', async () => {
    const { server } = await serveOne(
      { OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '8' },
      { 'user-agent': 'a-rather-long-agent' },
    );
    expect(server?.attributes['user_agent.original']).toBe('a-rather');
  });

  it('OTEL_RESOURCE_ATTRIBUTES adds to the resource; OTEL_NODE_RESOURCE_DETECTORS=none leaves the detectors out', async () => {
    const withAttributes = await serveOne({ OTEL_RESOURCE_ATTRIBUTES: 'team=imagery' });
    expect(withAttributes.server?.resource).toMatchObject({ team: 'imagery', 'service.name': 'env-test' });
    expect(withAttributes.server?.resource['host.name']).toEqual(expect.any(String));
    const none = await serveOne({ OTEL_NODE_RESOURCE_DETECTORS: 'none' });
    expect(none.server?.resource['host.name']).toBeUndefined();
    // Without the env detector OTEL_SERVICE_NAME is not read: the name comes from our default (package.json).
    expect(none.server?.resource['service.name']).toBe('fixture-app');
  });

  it('OTEL_NODE_DISABLED_INSTRUMENTATIONS turns one off; OTEL_NODE_ENABLED_INSTRUMENTATIONS replaces our set', async () => {
    const noExpress = await serveOne({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'express' });
    expect(noExpress.server).toBeDefined();
    expect(noExpress.server?.attributes['http.route']).toBeUndefined();
    const withFs = await serveOne({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,express,fs' });
    expect(withFs.spans.some((s) => s.scope.includes('instrumentation-fs'))).toBe(true);
    expect(withFs.server?.attributes['http.route']).toBe('/scenes/:id');
  });

  it('OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_COMPRESSION reach every export request', async () => {
    const { requests } = await serveOne({
      OTEL_EXPORTER_OTLP_HEADERS: 'x-team=imagery',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    });
    const traces = requests.filter((r) => r.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    for (const request of traces) {
      expect(request.headers['x-team']).toBe('imagery');
      expect(request.headers['content-encoding']).toBe('gzip');
    }
  });

  it('OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf and a per-signal endpoint choose the encoding and the path', async () => {
    const { requests } = await serveOne({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/custom/traces`,
    });
    const traces = requests.filter((r) => r.path === '/custom/traces');
    expect(traces.length).toBeGreaterThan(0);
    expect(traces[0]!.headers['content-type']).toBe('application/x-protobuf');
    expect(requests.some((r) => r.path === '/v1/logs')).toBe(true);
  });

  it('OTEL_TRACES_EXPORTER=none exports no spans, OTEL_LOGS_EXPORTER=console prints the records', async () => {
    const { requests, stdout, response } = await serveOne({
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'console',
    });
    expect(requests.some((r) => r.path === '/v1/traces')).toBe(false);
    expect(requests.some((r) => r.path === '/v1/logs')).toBe(false);
    // The server span still exists, so the header still names the request.
    expect(response.headers.get('traceresponse')).toMatch(/^00-[0-9a-f]{32}-/);
    expect(stdout).toContain("body: 'scene requested'");
  });
});
