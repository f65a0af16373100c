/**
 * The benchmarks' discarding OTLP sink (bench/lib/discard-sink.ts): it answers the real OTLP exporters with success
 * and counts the spans they send, in protobuf and in JSON, gzip or not. No timings here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { countProtobufSpans, startDiscardSink, type DiscardSink } from '../../bench/lib/discard-sink.ts';

/** Real spans with attributes, events and a link, as the SDK ends them. */
function endedSpans(count: number): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
  const tracer = provider.getTracer('sink-test', '1.0.0');
  const first = tracer.startSpan('first');
  first.end();
  for (let i = 1; i < count; i++) {
    const span = tracer.startSpan(`span ${i}`, {
      attributes: { 'http.route': '/api/scenes/:id', n: i, big: 'x'.repeat(300 * i) },
      links: [{ context: first.spanContext() }],
    });
    span.addEvent('event', { at: i });
    span.end();
  }
  return memory.getFinishedSpans();
}

const exported = (exporter: SpanExporter, spans: ReadableSpan[]) =>
  new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));

describe('the discarding OTLP sink', () => {
  let sink: DiscardSink | undefined;
  afterEach(async () => {
    await sink?.close();
    sink = undefined;
  });

  it('answers the protobuf exporter with success and counts every span it sent', async () => {
    sink = await startDiscardSink();
    const exporter = new ProtoExporter({ url: `${sink.url}/v1/traces` });
    const result = await exported(exporter, endedSpans(40));
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(sink.counts()).toMatchObject({ spans: 40, requests: { traces: 1 } });
    expect(sink.counts().bytes).toBeGreaterThan(40 * 300);
    await exporter.shutdown();
  });

  it('counts the spans of JSON exports, gzip-compressed ones too', async () => {
    sink = await startDiscardSink();
    const plain = new JsonExporter({ url: `${sink.url}/v1/traces` });
    const gzip = new JsonExporter({ url: `${sink.url}/v1/traces`, compression: 'gzip' as never });
    expect((await exported(plain, endedSpans(3))).code).toBe(ExportResultCode.SUCCESS);
    expect((await exported(gzip, endedSpans(5))).code).toBe(ExportResultCode.SUCCESS);
    expect(sink.counts()).toMatchObject({ spans: 8, requests: { traces: 2 } });
    await Promise.all([plain.shutdown(), gzip.shutdown()]);
  });

  it('refuses to count a truncated protobuf message rather than guess', () => {
    expect(() => countProtobufSpans(Buffer.from([0x0a, 0x80]))).toThrow(/truncated/);
  });
});
