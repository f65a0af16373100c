/**
 * Each pipeline of collector-config/local.yaml reaches its backend, with the processing the config promises: span
 * names made low-cardinality before spanmetrics, secrets and e-mail addresses masked, events conformed to the
 * Tracker contract. Runs an isolated stack with the committed config (the shared Collector may run an older one).
 */
import { randomUUID } from 'node:crypto';
import { SeverityNumber, SpanKind } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tag } from '../support/backends.ts';
import { pollUntil } from '../support/poll.ts';
import { attribute, IsolatedTestStack, logRecords } from '../support/isolated-stack.ts';

const serviceName = `collector-test-${randomUUID().slice(0, 8)}`;
const resource = () =>
  resourceFromAttributes({ 'service.name': serviceName, 'deployment.environment.name': 'test' });

const isolated = new IsolatedTestStack(24400);

function tracerProvider(): TracerProvider {
  return new TracerProvider({
    resource: resource(),
    spanProcessors: [
      new SimpleSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${isolated.otlpHttp}/v1/traces` }),
      }),
    ],
  });
}

function loggerProvider(): LoggerProvider {
  return new LoggerProvider({
    resource: resource(),
    processors: [
      new SimpleLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: `${isolated.otlpHttp}/v1/logs` }),
      }),
    ],
  });
}

describe('The local Collector config', () => {
  beforeAll(async () => {
    await isolated.up();
  });
  afterAll(async () => {
    await isolated.down();
  });

  it('delivers traces to Jaeger, found by trace ID with their attributes', async () => {
    const provider = tracerProvider();
    const span = provider.getTracer('collector-test').startSpan('scene.search', {
      attributes: { 'scene.count': 42, 'scene.satellite': 'sentinel-2' },
    });
    const { traceId, spanId } = span.spanContext();
    span.end();
    await provider.shutdown();

    const trace = await isolated.fetchTrace(traceId);
    const found = trace.spans.find((s) => s.spanID === spanId)!;
    expect(found.operationName).toBe('scene.search');
    expect(tag(found, 'scene.count')).toBe(42);
    const process = trace.processes[found.processID]!;
    expect(process.serviceName).toBe(serviceName);
    expect(process.tags.find((t) => t.key === 'observatory.collector.role')?.value).toBe('local');
  });

  it('names HTTP spans `METHOD route`, or `METHOD` without a route, and leaves business spans alone', async () => {
    const provider = tracerProvider();
    const tracer = provider.getTracer('collector-test');
    const root = tracer.startSpan('GET /scenes/8f14e45f', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'GET',
        'http.route': '/scenes/:id',
        'url.path': '/scenes/8f14e45f',
      },
    });
    const { traceId } = root.spanContext();
    const noRoute = tracer.startSpan('GET /static/app.3e9f1a.js', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'GET', 'url.path': '/static/app.3e9f1a.js' },
    });
    const business = tracer.startSpan('scene.search', { kind: SpanKind.INTERNAL });
    for (const span of [business, noRoute, root]) span.end();
    await provider.shutdown();

    const names = async (id: string) => (await isolated.fetchTrace(id)).spans.map((s) => s.operationName);
    expect(await names(traceId)).toEqual(['GET /scenes/:id']);
    expect(await names(noRoute.spanContext().traceId)).toEqual(['GET']);
    expect(await names(business.spanContext().traceId)).toEqual(['scene.search']);
  });

  it('masks e-mail addresses, bearer tokens and secrets in url.full, url.query and http.url, keeping the rest', async () => {
    const provider = tracerProvider();
    const span = provider.getTracer('collector-test').startSpan('GET /scenes', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'GET',
        'http.route': '/scenes',
        'user.email': 'alice.seed@example.org',
        'url.full': 'https://api.example.org/scenes?token=s3cr3t-full&page=2',
        'url.query': 'page=3&access_token=s3cr3t-query',
        'http.url': 'https://bob:hunter2@api.example.org/scenes?api_key=s3cr3t-legacy',
        'http.request.header.authorization': 'Bearer s3cr3t-bearer.abc',
        'scene.note': 'requested by carol@example.com',
      },
    });
    const { traceId, spanId } = span.spanContext();
    span.end();
    await provider.shutdown();

    const trace = await isolated.fetchTrace(traceId);
    const text = JSON.stringify(trace);
    for (const secret of ['alice.seed', 'example.org/scenes?token', 's3cr3t', 'hunter2', 'bob:', 'carol@']) {
      expect(text).not.toContain(secret);
    }
    const found = trace.spans.find((s) => s.spanID === spanId)!;
    expect(tag(found, 'url.full')).toBe('https://api.example.org/scenes?****&page=2');
    expect(tag(found, 'url.query')).toBe('page=3&****');
    expect(tag(found, 'http.url')).toBe('https://****api.example.org/scenes?****');
    expect(tag(found, 'user.email')).toBe('****');
    expect(tag(found, 'scene.note')).toBe('requested by ****');
  });

  it('masks secrets in every free-text place of a span: events, db statements, paths, headers, the resource', async () => {
    const provider = new TracerProvider({
      resource: resourceFromAttributes({
        'service.name': serviceName,
        // Jaeger's copy leaves the process attributes out (resource/jaeger), so a free-text key it keeps.
        'app.launch': 'node app.js --password=hunter3',
      }),
      spanProcessors: [
        new SimpleSpanProcessor({
          exporter: new OTLPTraceExporter({ url: `${isolated.otlpHttp}/v1/traces` }),
        }),
      ],
    });
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl';
    const span = provider.getTracer('collector-test').startSpan('GET /users/:email/scenes', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'GET',
        'url.path': '/users/erin@example.com/scenes',
        'db.query.text': "SELECT * FROM users WHERE email = 'frank@example.com' AND token=abc123",
        'http.request.header.cookie': 'session=s3cr3t-cookie; theme=dark',
        // Every pattern in one value, in the order the patterns run.
        'app.mixed': `https://grace:pw@host/x?sig=s3cr3t-sig#top Bearer s3cr3t.bearer ${jwt} AKIAABCDEFGHIJKLMNOP`,
        'scene.id': 'S2A_MSIL2A_20260601T103021_N0510',
      },
    });
    span.recordException(new Error('user heidi@example.com not found'));
    const { traceId, spanId } = span.spanContext();
    span.end();
    await provider.shutdown();

    const trace = await isolated.fetchTrace(traceId);
    const text = JSON.stringify(trace);
    for (const secret of ['erin@', 'frank@', 'heidi@', 'abc123', 's3cr3t', 'hunter3', 'grace', jwt, 'AKIA']) {
      expect(text).not.toContain(secret);
    }
    const found = trace.spans.find((s) => s.spanID === spanId)!;
    expect(tag(found, 'url.path')).toBe('/users/****/scenes');
    expect(tag(found, 'db.query.text')).toBe("SELECT * FROM users WHERE email = '****' AND ****");
    expect(tag(found, 'http.request.header.cookie')).toBe('**** theme=dark');
    expect(tag(found, 'app.mixed')).toBe('https://****host/x?****#top **** **** ****');
    expect(tag(found, 'scene.id')).toBe('S2A_MSIL2A_20260601T103021_N0510');
    expect(text).toContain('user **** not found');
    const process = trace.processes[found.processID]!;
    expect(process.tags.find((t) => t.key === 'app.launch')?.value).toBe('node app.js --****');
  });

  it('delivers metrics to Prometheus with their values', async () => {
    const reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: `${isolated.otlpHttp}/v1/metrics` }),
      exportIntervalMillis: 60_000,
    });
    const provider = new MeterProvider({ resource: resource(), readers: [reader] });
    const run = randomUUID();
    provider.getMeter('collector-test').createCounter('observatory_test_scenes').add(5, { run });
    await provider.shutdown();

    const samples = await isolated.promSamples(`observatory_test_scenes_total{run="${run}"}`);
    expect(Number(samples[0]!.value[1])).toBe(5);
  });

  it('turns spans into span metrics in Prometheus, one series per route, not per URL', async () => {
    const provider = tracerProvider();
    const tracer = provider.getTracer('collector-test');
    for (const id of ['a1', 'b2', 'c3']) {
      tracer
        .startSpan(`GET /orders/${id}`, {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': 'GET',
            'http.route': '/orders/:id',
            'http.response.status_code': 200,
          },
        })
        .end();
    }
    await provider.shutdown();

    const selector = `traces_span_metrics_calls_total{service_name="${serviceName}",span_kind="SPAN_KIND_SERVER",http_route="/orders/:id"}`;
    // Polled until all three spans are counted: they may land in different flushes of the connector.
    const samples = await pollUntil(`${selector} to reach 3`, async () => {
      const result = await isolated.promQuery(selector);
      return result.length > 0 && Number(result[0]!.value[1]) >= 3 ? result : undefined;
    });
    expect(samples.map((s) => s.metric.span_name)).toEqual(['GET /orders/:id']);
    expect(Number(samples[0]!.value[1])).toBe(3);
    const duration = await isolated.promSamples(
      `traces_span_metrics_duration_milliseconds_count{service_name="${serviceName}",http_route="/orders/:id"}`,
    );
    expect(duration.map((s) => s.metric.span_name)).toEqual(['GET /orders/:id']);
  });

  it('writes business events to S3 raw/events/, conformed: only event.* attributes, strings cut at 4096', async () => {
    const provider = loggerProvider();
    const eventId = randomUUID();
    provider.getLogger('collector-test').emit({
      eventName: 'scene.downloaded',
      severityNumber: SeverityNumber.INFO,
      body: { 'scene.id': 'S2A_0042', 'user.contact': 'dave.seed@example.net', size: 1234 },
      attributes: {
        'event.id': eventId,
        'event.schema_version': 1,
        'event.note': 'x'.repeat(5000),
        'log.source': 'some library',
        'user.id': 'u-1',
      },
    });
    await provider.shutdown();

    const { key, text } = await isolated.findObjectContaining('raw/events/', eventId);
    expect(key).toMatch(/^raw\/events\/year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/.+\.json\.gz$/);
    const record = logRecords(text).find((r) => attribute(r, 'event.id')?.stringValue === eventId)!;
    expect(record.eventName).toBe('scene.downloaded');
    expect(record.attributes!.map((a) => a.key).sort()).toEqual([
      'event.id',
      'event.note',
      'event.schema_version',
    ]);
    expect(attribute(record, 'event.note')!.stringValue).toHaveLength(4096);
    const body = Object.fromEntries(record.body!.kvlistValue!.values.map((v) => [v.key, v.value]));
    expect(body['scene.id']!.stringValue).toBe('S2A_0042');
    expect(body['user.contact']!.stringValue).toBe('****');
    expect(text).not.toContain('dave.seed');
    expect(await containsAnywhere('raw/logs/', eventId)).toBe(false);
  });

  it('writes application logs to S3 raw/logs/, not to raw/events/, with their attributes kept and the body masked', async () => {
    const provider = loggerProvider();
    const marker = `log-${randomUUID()}`;
    provider.getLogger('collector-test').emit({
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: `scene cache cold ${marker} for ivan@example.com, Bearer s3cr3t.token`,
      attributes: { marker, 'cache.size': 3 },
    });
    await provider.shutdown();

    const { text } = await isolated.findObjectContaining('raw/logs/', marker);
    const record = logRecords(text).find((r) => attribute(r, 'marker')?.stringValue === marker)!;
    expect(record.body!.stringValue).toBe(`scene cache cold ${marker} for ****, ****`);
    expect(attribute(record, 'cache.size')!.intValue).toBe('3');
    expect(await containsAnywhere('raw/events/', marker)).toBe(false);
  });
});

async function containsAnywhere(prefix: string, needle: string): Promise<boolean> {
  for (const key of await isolated.listKeys(prefix)) {
    if ((await isolated.readObject(key)).includes(needle)) return true;
  }
  return false;
}
