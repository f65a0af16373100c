/**
 * The foundation's promise: telemetry sent with the OpenTelemetry SDK over OTLP/HTTP to our Collector reaches each
 * real backend, and can be read back there by its ID.
 */
import { randomUUID } from 'node:crypto';
import { SeverityNumber } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { fetchTrace, findObjectContaining, promQuery, stackEndpoints, tag } from '../support/backends.ts';
import { pollUntil } from '../support/poll.ts';

const serviceName = `pipeline-test-${randomUUID().slice(0, 8)}`;
const resource = () =>
  resourceFromAttributes({ 'service.name': serviceName, 'deployment.environment.name': 'test' });

describe('The local stack', () => {
  it('delivers a span sent over OTLP/HTTP to Jaeger, found by its trace ID with its attributes', async () => {
    const { otlpHttp } = stackEndpoints();
    const provider = new TracerProvider({
      resource: resource(),
      spanProcessors: [
        new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${otlpHttp}/v1/traces` }) }),
      ],
    });
    const span = provider.getTracer('pipeline-test').startSpan('scene.search', {
      attributes: { 'scene.count': 42, 'scene.satellite': 'sentinel-2', 'scene.cloudy': false },
    });
    const { traceId, spanId } = span.spanContext();
    span.end();
    await provider.shutdown();

    const trace = await fetchTrace(traceId);
    const found = trace.spans.find((s) => s.spanID === spanId)!;
    expect(found.operationName).toBe('scene.search');
    expect(tag(found, 'scene.count')).toBe(42);
    expect(tag(found, 'scene.satellite')).toBe('sentinel-2');
    expect(tag(found, 'scene.cloudy')).toBe(false);
    expect(trace.processes[found.processID]!.serviceName).toBe(serviceName);
  });

  it('delivers a counter sent over OTLP to Prometheus with its value', async () => {
    const { otlpHttp } = stackEndpoints();
    const reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: `${otlpHttp}/v1/metrics` }),
      exportIntervalMillis: 60_000,
    });
    const provider = new MeterProvider({ resource: resource(), readers: [reader] });
    const counter = provider.getMeter('pipeline-test').createCounter('observatory_test_scenes', {
      description: 'scenes counted by the pipeline test',
    });
    const run = randomUUID();
    counter.add(5, { run });
    counter.add(2, { run });
    await provider.shutdown();

    const samples = await pollUntil(`observatory_test_scenes_total{run="${run}"} in Prometheus`, async () => {
      const result = await promQuery(`observatory_test_scenes_total{run="${run}"}`);
      return result.length > 0 ? result : undefined;
    });
    expect(samples).toHaveLength(1);
    expect(Number(samples[0]!.value[1])).toBe(7);
    expect(samples[0]!.metric.job).toBe(serviceName);
  });

  it('writes a log record sent over OTLP as an object in the S3 bucket, read back with AWS SDK v3', async () => {
    const { otlpHttp } = stackEndpoints();
    const provider = new LoggerProvider({
      resource: resource(),
      processors: [
        new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${otlpHttp}/v1/logs` }) }),
      ],
    });
    const marker = `log-${randomUUID()}`;
    provider.getLogger('pipeline-test').emit({
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: `scene ingested ${marker}`,
      attributes: { marker },
    });
    await provider.shutdown();

    const { key, text } = await findObjectContaining('raw/logs/', marker);
    expect(key).toMatch(/^raw\/logs\/year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/.+\.json\.gz$/);
    const document = JSON.parse(text) as {
      resourceLogs: { scopeLogs: { logRecords: { body: { stringValue: string } }[] }[] }[];
    };
    const bodies = document.resourceLogs.flatMap((r) =>
      r.scopeLogs.flatMap((s) => s.logRecords.map((l) => l.body.stringValue)),
    );
    expect(bodies).toContain(`scene ingested ${marker}`);
  });
});
