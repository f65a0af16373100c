/**
 * The preload as users run it, against the real stack: one flag on `node`, and traces reach Jaeger, logs reach S3
 * and HTTP metrics reach Prometheus, all carrying the same correlation ID and service information.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchTrace, findObjectContaining, promQuery, tag } from '../support/backends.ts';
import { pollUntil } from '../support/poll.ts';
import { spawnNode, type RunningApp } from '../support/spawn.ts';

const TRACERESPONSE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

interface OtlpLogs {
  resourceLogs: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeLogs: { logRecords: { traceId: string; spanId: string; body: { stringValue?: string } }[] }[];
  }[];
}

const running: RunningApp[] = [];
afterEach(async () => {
  for (const app of running.splice(0)) await app.stop();
});

async function serveOneRequest(args: string[], env: Record<string, string>) {
  const app = spawnNode(args, env);
  running.push(app);
  const [, port] = await app.waitForLine(/^LISTENING (\d+)$/);
  const sceneId = `S2A-${randomUUID().slice(0, 8)}`;
  const response = await fetch(`http://127.0.0.1:${port}/scenes/${sceneId}`);
  expect(response.status).toBe(200);
  const header = response.headers.get('traceresponse') ?? '';
  const match = header.match(TRACERESPONSE);
  expect(match, `traceresponse header ${JSON.stringify(header)}`).not.toBeNull();
  return { app, sceneId, traceId: match![1]!, spanId: match![2]! };
}

async function expectAllSignals(service: string, traceId: string, spanId: string, sceneId: string) {
  // Traces: the server span, with the route, is the one the traceresponse header names.
  const trace = await fetchTrace(traceId);
  const server = trace.spans.find((s) => s.spanID === spanId);
  expect(server, `server span ${spanId} in trace ${traceId}`).toBeDefined();
  expect(tag(server!, 'http.route')).toBe('/scenes/:id');
  expect(tag(server!, 'span.kind')).toBe('server');
  const process = trace.processes[server!.processID]!;
  expect(process.serviceName).toBe(service);
  const resource = Object.fromEntries(process.tags.map((t) => [t.key, t.value]));
  expect(resource).toMatchObject({
    'service.version': '1.2.3',
    'service.namespace': 'observatory',
    'deployment.environment.name': 'test',
  });

  // Logs: the record written inside the request carries the same trace ID, in S3.
  const { text } = await findObjectContaining('raw/logs/', sceneId);
  const records = (JSON.parse(text) as OtlpLogs).resourceLogs.flatMap((r) =>
    r.scopeLogs.flatMap((s) => s.logRecords.map((record) => ({ record, resource: r.resource }))),
  );
  const line = records.find(({ record }) => JSON.stringify(record).includes(sceneId));
  expect(line?.record.traceId).toBe(traceId);
  expect(line?.record.spanId).toBe(spanId);
  expect(line?.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue).toBe(service);

  // Metrics: the HTTP server duration histogram, labelled with the service.
  const samples = await pollUntil(
    `http_server_request_duration_seconds_count for ${service} in Prometheus`,
    async () => {
      const result = await promQuery(
        `http_server_request_duration_seconds_count{job="observatory/${service}"}`,
      );
      return result.length > 0 ? result : undefined;
    },
  );
  expect(samples[0]!.metric.http_route).toBe('/scenes/:id');
}

describe('The instrumentation preload', () => {
  it('instruments a CommonJS Express app under `node --require ./instrumentation`', async () => {
    const service = `cjs-${randomUUID().slice(0, 8)}`;
    const env = { OTEL_SERVICE_NAME: service, OBSERVATORY_STAGE: 'test' };
    const { traceId, spanId, sceneId } = await serveOneRequest(
      ['--require', './instrumentation', 'test/instrumentation/fixtures/cjs-app.cjs'],
      env,
    );
    await expectAllSignals(service, traceId, spanId, sceneId);
  });

  it('instruments an ESM Express app under `node --import ./instrumentation/register.mjs`', async () => {
    const service = `esm-${randomUUID().slice(0, 8)}`;
    const env = { OTEL_SERVICE_NAME: service, OBSERVATORY_STAGE: 'test' };
    const { traceId, spanId, sceneId } = await serveOneRequest(
      ['--import', './instrumentation/register.mjs', 'test/instrumentation/fixtures/esm-app.mjs'],
      env,
    );
    await expectAllSignals(service, traceId, spanId, sceneId);
  });

  it('instruments the ESM Express app under plain `--require ./instrumentation` too (in-thread loader hooks)', async () => {
    const service = `esm-require-${randomUUID().slice(0, 8)}`;
    const env = { OTEL_SERVICE_NAME: service, OBSERVATORY_STAGE: 'test' };
    const { traceId, spanId, sceneId } = await serveOneRequest(
      ['--require', './instrumentation', 'test/instrumentation/fixtures/esm-app.mjs'],
      env,
    );
    await expectAllSignals(service, traceId, spanId, sceneId);
  });

  it('works the same through NODE_OPTIONS', async () => {
    const service = `nodeopts-${randomUUID().slice(0, 8)}`;
    const env = {
      OTEL_SERVICE_NAME: service,
      OBSERVATORY_STAGE: 'test',
      NODE_OPTIONS: '--require ./instrumentation',
    };
    const { traceId, spanId } = await serveOneRequest(['test/instrumentation/fixtures/cjs-app.cjs'], env);
    const trace = await fetchTrace(traceId);
    expect(trace.spans.find((s) => s.spanID === spanId)?.operationName).toBe('GET /scenes/:id');
  });

  it('sends all three signals over gRPC to the Collector on 4317 with OTEL_EXPORTER_OTLP_PROTOCOL=grpc', async () => {
    const service = `grpc-${randomUUID().slice(0, 8)}`;
    const env = {
      OTEL_SERVICE_NAME: service,
      OBSERVATORY_STAGE: 'test',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    };
    const { traceId, spanId, sceneId } = await serveOneRequest(
      ['--require', './instrumentation', 'test/instrumentation/fixtures/cjs-app.cjs'],
      env,
    );
    await expectAllSignals(service, traceId, spanId, sceneId);
  });

  it('runs the app uninstrumented when OTEL_SDK_DISABLED=true: nothing reaches an OTLP endpoint', async () => {
    // A sink for every OTLP request. The same app with the SDK enabled shows that the sink would see its telemetry:
    // at SIGTERM the preload flushes every signal before the process exits.
    const received: string[] = [];
    const sink = createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()));
    const endpoint = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;
    const serveAndStop = async (env: Record<string, string>) => {
      const app = spawnNode(['--require', './instrumentation', 'test/instrumentation/fixtures/cjs-app.cjs'], {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_METRIC_EXPORT_INTERVAL: '60000',
        ...env,
      });
      running.push(app);
      const [, port] = await app.waitForLine(/^LISTENING (\d+)$/);
      const response = await fetch(`http://127.0.0.1:${port}/scenes/x`);
      expect(response.status).toBe(200);
      app.child.kill('SIGTERM');
      await app.exited;
      return response;
    };
    try {
      await serveAndStop({});
      expect(received).toEqual(
        expect.arrayContaining(['POST /v1/traces', 'POST /v1/logs', 'POST /v1/metrics']),
      );
      received.length = 0;
      const response = await serveAndStop({ OTEL_SDK_DISABLED: 'true' });
      expect(response.headers.get('traceresponse')).toBeNull();
      expect(received).toEqual([]);
    } finally {
      sink.close();
    }
  });
});
