/**
 * A gate in front of the local S3 store that only lets through requests signed with one access key and addressed to
 * one bucket (path-style), and answers everything else 403 AccessDenied. The local store accepts any signature, so
 * without the gate a client that silently fell back to the local credentials or the default bucket would still
 * pass; behind it, such a client fails. Every request is recorded, so tests can also say what was refused.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GateRequest {
  method: string;
  path: string;
  accessKeyId: string | undefined;
  bucket: string;
  allowed: boolean;
}

export interface S3Gate {
  /** The gate's endpoint, to use as OBSERVATORY_S3_ENDPOINT. */
  url: string;
  requests: GateRequest[];
  refused(): GateRequest[];
  close(): Promise<void>;
}

/** The access key ID in a SigV4 Authorization header or a presigned URL's X-Amz-Credential. */
function accessKeyOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization ?? '';
  const credential = /Credential=([^/,\s]+)\//.exec(header)?.[1];
  return credential ?? url.searchParams.get('X-Amz-Credential')?.split('/')[0];
}

export async function startS3Gate(
  target: string,
  allow: { accessKeyId: string; bucket: string },
): Promise<S3Gate> {
  const upstream = new URL(target);
  const requests: GateRequest[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gate');
    const accessKeyId = accessKeyOf(req, url);
    const bucket = decodeURIComponent(url.pathname.split('/')[1] ?? '');
    const allowed = accessKeyId === allow.accessKeyId && bucket === allow.bucket;
    requests.push({ method: req.method ?? 'GET', path: url.pathname, accessKeyId, bucket, allowed });
    if (!allowed) {
      req.resume();
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>the gate allows key ` +
          `${allow.accessKeyId} on bucket ${allow.bucket} only (got key ${accessKeyId} on bucket ${bucket})</Message></Error>`,
      );
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    refused: () => requests.filter((r) => !r.allowed),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
