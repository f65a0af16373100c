/**
 * The console's HTTP server: the bundled front end (ui/dist/), one HTML shell for every page route, and the JSON
 * API (api.ts). Bound to loopback; a request naming another host is refused, so a web page elsewhere cannot reach
 * it through DNS rebinding, and an API request another origin's page makes a browser send is refused
 * (same-origin.ts). A request whose client goes away aborts what it started (a lake query is interrupted).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Api, ApiError } from './api.ts';
import type { UiConfig } from './config.ts';
import { crossOriginRefusal, isJsonBody } from './same-origin.ts';

export interface UiServer {
  /** e.g. http://127.0.0.1:8686 */
  url: string;
  close(): Promise<void>;
}

const PAGES = /^\/(traces(\/[^/]+)?|compare\/[^/]+\/[^/]+|services|dashboards(\/[^/]+)?|lake)\/?$/;
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};
const MAX_BODY = 100_000;
const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Observatory</title>
<link rel="stylesheet" href="/assets/main.css">
<link rel="icon" href="data:,">
</head>
<body>
<noscript>The Observatory console needs JavaScript; every page has a text equivalent: npx observatory --help</noscript>
<div id="app"></div>
<script type="module" src="/assets/main.js"></script>
</body>
</html>
`;

/** Starts the server on config.port (0: any free port). */
export async function startUiServer(config: UiConfig): Promise<UiServer> {
  const api = new Api(config);
  const server = createServer((request, response) => {
    handle(request, response, api, config).catch((error: Error) => {
      if (!response.headersSent) send(response, 500, TEXT_TYPE, error.message);
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.host}:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await api.close();
    },
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, api: Api, config: UiConfig) {
  const hostHeader = request.headers.host ?? '';
  const host = hostHeader.replace(/:\d+$/, '');
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
    return send(response, 403, TEXT_TYPE, `refused: the console answers to 127.0.0.1, not ${host}`);
  }
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const method = request.method ?? 'GET';
  const isApi = url.pathname.startsWith('/api/');
  if (!decodable(url.pathname)) {
    const why = `the address ${url.pathname} is not valid: its %-escapes do not spell UTF-8 text`;
    return isApi ? sendJson(response, 400, { error: why }) : send(response, 400, TEXT_TYPE, why);
  }
  if (isApi) return answerApi(request, response, api, { url, method, host: hostHeader });
  if (method !== 'GET' && method !== 'HEAD') return send(response, 405, TEXT_TYPE, 'GET only');
  if (url.pathname === '/') {
    response.writeHead(302, { location: '/traces' }).end();
    return;
  }
  if (url.pathname.startsWith('/assets/')) {
    const name = normalize(url.pathname.slice('/assets/'.length));
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (name.includes('..') || name.includes('/') || !type)
      return send(response, 404, 'text/plain', 'not found');
    try {
      return send(response, 200, type, await readFile(join(config.assetsDir, name)), 'no-cache');
    } catch {
      return send(response, 404, TEXT_TYPE, `${name} is not built: run node console/build.ts`);
    }
  }
  if (PAGES.test(url.pathname)) return send(response, 200, 'text/html; charset=utf-8', SHELL, 'no-cache');
  return send(
    response,
    404,
    'text/html; charset=utf-8',
    '<!doctype html><title>Not found</title><p>No such page. Try <a href="/traces">/traces</a>.</p>',
  );
}

function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  cache = 'no-store',
): void {
  response.writeHead(status, {
    'content-type': type,
    'cache-control': cache,
    'x-content-type-options': 'nosniff',
    // Everything the pages need is served from here: no CDN, no remote fonts, no inline scripts.
    'content-security-policy':
      "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'",
  });
  response.end(body);
}

/** The API's edge: who may call it, what body it takes, and the client's departure as an abort. */
async function answerApi(
  request: IncomingMessage,
  response: ServerResponse,
  api: Api,
  { url, method, host }: { url: URL; method: string; host: string },
): Promise<void> {
  const refusal = crossOriginRefusal(request.headers, method, host);
  if (refusal) return sendJson(response, 403, { error: refusal });
  const gone = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) gone.abort(new ClientGoneError());
  });
  // Checked where a body is read: a POST to an address that takes none is still a 405.
  const readJson = () => {
    if (!isJsonBody(request.headers))
      throw new ApiError(415, 'the API takes a JSON body: send content-type: application/json');
    return readBody(request);
  };
  const result = await api.handle(method, url, readJson, gone.signal);
  if (gone.signal.aborted) return;
  const body = result.raw ? String(result.body) : JSON.stringify(result.body);
  return send(response, result.status, JSON_TYPE, body);
}

/** Why an API call was abandoned: its client closed the connection before the answer. */
class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGoneError';
  }
}

function decodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, JSON_TYPE, JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error(`request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
