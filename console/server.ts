/**
 * The console's HTTP server: the bundled front end (ui/dist/), one HTML shell for every page route, and the JSON
 * API (api.ts). Bound to loopback; a request naming another host is refused, so a web page elsewhere cannot reach
 * it through DNS rebinding.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Api } from './api.ts';
import type { UiConfig } from './config.ts';

export interface UiServer {
  /** e.g. http://127.0.0.1:8686 */
  url: string;
  close(): Promise<void>;
}

const PAGES = /^\/(traces(\/[^/]+)?|services|dashboards(\/[^/]+)?|lake)\/?$/;
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};
const MAX_BODY = 100_000;

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
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', error.message);
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, api: Api, config: UiConfig) {
  const host = (request.headers.host ?? '').replace(/:\d+$/, '');
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
    return send(
      response,
      403,
      'text/plain; charset=utf-8',
      `refused: the console answers to 127.0.0.1, not ${host}`,
    );
  }
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const method = request.method ?? 'GET';
  if (url.pathname.startsWith('/api/')) {
    const result = await api.handle(method, url, () => readBody(request));
    const body = result.raw ? String(result.body) : JSON.stringify(result.body);
    return send(response, result.status, 'application/json; charset=utf-8', body);
  }
  if (method !== 'GET' && method !== 'HEAD')
    return send(response, 405, 'text/plain; charset=utf-8', 'GET only');
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
      return send(
        response,
        404,
        'text/plain; charset=utf-8',
        `${name} is not built: run node console/build.ts`,
      );
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
