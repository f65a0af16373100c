/**
 * A tiny OTLP/HTTP receiver for tests that need no stack: it records every request (path, headers, body — JSON
 * bodies parsed, gzip undone) and answers 200, the way contrib's test utilities check what an SDK sends.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { gunzipSync } from 'node:zlib';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed OTLP JSON, or undefined for protobuf bodies. */
  json: OtlpJson | undefined;
  bytes: number;
}

export interface OtlpJson {
  resourceSpans?: {
    resource: { attributes: KeyValue[] };
    scopeSpans: {
      scope: { name: string };
      spans: { name: string; traceId: string; attributes: KeyValue[] }[];
    }[];
  }[];
  resourceLogs?: {
    resource: { attributes: KeyValue[] };
    scopeLogs: { logRecords: { traceId?: string; body?: { stringValue?: string } }[] }[];
  }[];
}

export interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string | number; arrayValue?: unknown };
}

export interface OtlpReceiver {
  url: string;
  requests: ReceivedRequest[];
  spans(): {
    name: string;
    scope: string;
    traceId: string;
    attributes: Record<string, unknown>;
    resource: Record<string, unknown>;
  }[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<OtlpReceiver> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const json = String(req.headers['content-type']).includes('json')
        ? (JSON.parse(body.toString('utf8')) as OtlpJson)
        : undefined;
      requests.push({ path: req.url ?? '', headers: req.headers, json, bytes: body.length });
      res.writeHead(200, { 'content-type': String(req.headers['content-type'] ?? 'application/json') });
      res.end(String(req.headers['content-type']).includes('json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    spans: () =>
      requests.flatMap((request) =>
        (request.json?.resourceSpans ?? []).flatMap((rs) =>
          rs.scopeSpans.flatMap((ss) =>
            ss.spans.map((span) => ({
              name: span.name,
              scope: ss.scope.name,
              traceId: span.traceId,
              attributes: flatten(span.attributes),
              resource: flatten(rs.resource.attributes),
            })),
          ),
        ),
      ),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function flatten(attributes: KeyValue[]): Record<string, unknown> {
  return Object.fromEntries(
    attributes.map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.arrayValue]),
  );
}

export interface GrpcCall {
  path: string;
  contentType: string | undefined;
}

/** A gRPC endpoint over cleartext HTTP/2 that records each call's method path and answers every one with OK. */
export async function startGrpcReceiver(): Promise<{
  url: string;
  calls: GrpcCall[];
  close(): Promise<void>;
}> {
  const calls: GrpcCall[] = [];
  const server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    calls.push({ path: String(headers[':path']), contentType: headers['content-type'] });
    stream.on('data', () => {});
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      // An empty response message: not compressed, zero bytes long.
      stream.end(Buffer.alloc(5));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
