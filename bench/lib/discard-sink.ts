/**
 * A discarding OTLP/HTTP sink for the benchmarks (issue 24): it accepts what an OTLP exporter posts to
 * `/v1/{traces,metrics,logs}` (protobuf or JSON, gzip or not), answers success at once and keeps nothing but counts —
 * requests, bytes and spans — so that an app's telemetry costs the app what it costs and nothing downstream (no
 * Collector, no Jaeger indexing each span) shares its cores. The spans are counted so that a bench can say what the
 * app pays per span, not only per request. gRPC is not served: the preload and the zero-code anchor both default to
 * http/protobuf.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface SinkCounts {
  /** Export requests by signal path (`traces`, `metrics`, `logs`). */
  requests: Record<string, number>;
  /** Bytes received (as sent, before gzip is undone). */
  bytes: number;
  spans: number;
}

export interface DiscardSink {
  /** The base URL, for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  url: string;
  counts(): SinkCounts;
  close(): Promise<void>;
}

/** Reads a protobuf varint at `at`: its value and the offset after it. */
function varint(buffer: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < buffer.length; i++) {
    const byte = buffer[i]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, i + 1];
    scale *= 128;
  }
  throw new Error('truncated varint');
}

/**
 * Calls `visit` with each length-delimited field `wanted` of the message in `buffer[start, end)` and skips the rest
 * (the protobuf wire format: a key of field number and wire type, then the value).
 */
function eachField(
  buffer: Buffer,
  start: number,
  end: number,
  wanted: number,
  visit: (from: number, to: number) => void,
): void {
  for (let at = start; at < end;) {
    const [key, afterKey] = varint(buffer, at);
    const type = key & 7;
    if (type === 0) at = varint(buffer, afterKey)[1];
    else if (type === 1) at = afterKey + 8;
    else if (type === 5) at = afterKey + 4;
    else if (type === 2) {
      const [length, from] = varint(buffer, afterKey);
      if (key >>> 3 === wanted) visit(from, from + length);
      at = from + length;
    } else throw new Error(`unsupported wire type ${type}`);
  }
}

/**
 * Spans in an ExportTraceServiceRequest in protobuf: resource_spans = 1 → scope_spans = 2 → spans = 2 (the OTLP
 * trace proto), without decoding anything else.
 */
export function countProtobufSpans(buffer: Buffer): number {
  let spans = 0;
  eachField(buffer, 0, buffer.length, 1, (rsFrom, rsTo) =>
    eachField(buffer, rsFrom, rsTo, 2, (ssFrom, ssTo) => eachField(buffer, ssFrom, ssTo, 2, () => spans++)),
  );
  return spans;
}

interface TraceJson {
  resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
}

/** Spans in an ExportTraceServiceRequest in OTLP JSON. */
export function countJsonSpans(body: Buffer): number {
  const request = JSON.parse(body.toString('utf8')) as TraceJson;
  let spans = 0;
  for (const rs of request.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? []) spans += ss.spans?.length ?? 0;
  return spans;
}

/** A success answer in the request's encoding: an empty export response message. */
function answer(response: ServerResponse, json: boolean): void {
  response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
  response.end(json ? '{}' : '');
}

/** Starts the sink on `port` (0: any free port) on the loopback interface. */
export async function startDiscardSink(port = 0): Promise<DiscardSink> {
  const counts: SinkCounts = { requests: {}, bytes: 0, spans: 0 };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const signal = (request.url ?? '').replace(/^\/v1\//, '');
      const json = String(request.headers['content-type']).includes('json');
      const raw = Buffer.concat(chunks);
      counts.requests[signal] = (counts.requests[signal] ?? 0) + 1;
      counts.bytes += raw.length;
      if (signal === 'traces') {
        try {
          const body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
          counts.spans += json ? countJsonSpans(body) : countProtobufSpans(body);
        } catch {
          // Uncountable is still discarded with success: the sink measures the sender, it does not judge it.
        }
      }
      answer(response, json);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${bound}`,
    counts: () => ({ ...counts, requests: { ...counts.requests } }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
