/**
 * The lake's copy of spans is OTLP protobuf (the awss3 exporter's otlp_proto marshaler): decoded, it must give the
 * same curated rows as the OTLP JSON of the same spans, and hostile bytes must fail as unreadable, not crash or hang.
 * Both encodings come from the OpenTelemetry SDK's own serializers, the messages an instrumented service sends.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { failureType } from '../../lake/compact.ts';
import { flattenSpans, type OtlpTracesDocument } from '../../lake/flatten-telemetry.ts';
import { NotOtlpProtoError, tracesFromProto } from '../../lake/otlp-proto.ts';
import { jsonBytesBeyond, takeOversized } from '../../lake/oversize.ts';
import { isProtoObject, isRawObject } from '../../lake/raw-keys.ts';

/** A request's spans with every kind of value the lake reads: nested, linked, with events, an error status. */
function requestSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'gateway',
      'service.version': '1.2.3',
      'process.pid': 4242,
    }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('proto-test');
  const root = tracer.startSpan('GET /api/scenes/:id', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'http.route': '/api/scenes/:id',
      'http.response.status_code': 500,
      'url.query': 'page=2&****',
      'scene.cloud_cover': 12.5,
      'scene.cached': false,
      'scene.bands': ['B02', 'B03', 'B04'],
      'scene.sizes': [-1, 0, 9_007_199_254_740_991],
      'scene.note': 'ünïcødé ✓ and "quotes"',
    },
  });
  root.addEvent('exception', {
    'exception.type': 'Error',
    'exception.message': 'scene S2A not found',
    'exception.stacktrace': 'Error: scene S2A not found\n    at handler (gateway.ts:42:7)',
  });
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'scene not found' });
  const parent = { ...root.spanContext() };
  const child = tracer.startSpan(
    'S3/GetObject',
    { kind: SpanKind.CLIENT, links: [{ context: parent, attributes: { 'link.reason': 'fan-in' } }] },
    trace.setSpan(context.active(), root),
  );
  child.end();
  root.end();
  return exporter.getFinishedSpans();
}

const fromJson = (spans: ReturnType<typeof requestSpans>) =>
  JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans))) as OtlpTracesDocument;
const fromProto = (spans: ReturnType<typeof requestSpans>) =>
  ProtobufTraceSerializer.serializeRequest(spans)!;

describe('OTLP protobuf spans in the lake', () => {
  it('give the same curated rows as the OTLP JSON of the same spans', () => {
    const spans = requestSpans();
    const rows = flattenSpans(tracesFromProto(fromProto(spans)));
    expect(rows).toHaveLength(2);
    expect(rows).toEqual(flattenSpans(fromJson(spans)));
    const root = rows.find((r) => r.name === 'GET /api/scenes/:id')!;
    const child = rows.find((r) => r.name === 'S3/GetObject')!;
    expect(child.parent_span_id).toBe(root.span_id);
    expect(root.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(root.status_code).toBe('error');
    expect((root.attributes as Record<string, string>)['scene.sizes']).toBe('[-1,0,9007199254740991]');
    expect(JSON.parse(root.events as string)[0].attributes['exception.message']).toBe('scene S2A not found');
  });

  it('elide a string longer than a record may be, as the JSON reader does, so the record is filed as too large', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    provider
      .getTracer('proto-test')
      .startSpan('big', { attributes: { 'db.query.text': 'x'.repeat(200_000) } })
      .end();
    const document = tracesFromProto(fromProto(exporter.getFinishedSpans()), 64 * 1024);
    const value = document.resourceSpans![0]!.scopeSpans![0]!.spans![0]!.attributes![0]!.value!.stringValue!;
    expect(value.length).toBeLessThan(100);
    expect(jsonBytesBeyond(value, 64 * 1024)).toBeGreaterThan(64 * 1024);
    expect(takeOversized('traces', document, 64 * 1024).map((row) => row.reason)).toEqual(['too_large']);
  });

  it('refuse truncated or foreign bytes as unreadable', () => {
    const bytes = fromProto(requestSpans());
    for (const hostile of [
      bytes.subarray(0, bytes.length - 7),
      Buffer.from('{"resourceSpans":[]}'),
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      Buffer.alloc(64, 0xff),
    ]) {
      let error: unknown;
      try {
        tracesFromProto(hostile);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(NotOtlpProtoError);
      expect(failureType((error as Error).message)).toBe('unreadable');
    }
  });

  it('are told apart from OTLP JSON by the name the awss3 exporter gives them', () => {
    expect(isProtoObject('raw/traces/year=2026/month=12/day=04/hour=21/0193.binpb.zst')).toBe(true);
    expect(isProtoObject('raw/traces/year=2026/month=12/day=04/hour=21/0193.json.zst')).toBe(false);
    for (const key of ['a.json', 'a.json.gz', 'a.json.zst', 'a.binpb', 'a.binpb.gz', 'a.binpb.zst'])
      expect(isRawObject(key)).toBe(true);
    for (const key of ['a.parquet', 'a.json.tmp', 'a.binpbx', 'raw/traces/'])
      expect(isRawObject(key)).toBe(false);
  });
});
