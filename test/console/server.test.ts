/**
 * The console's server without a browser: the lake gate refuses everything but one read-only query, the Prometheus
 * proxy only reads, a request naming another host or coming from another origin is refused, a lake query is bounded
 * (rows, time, memory, threads) and ends when its client leaves, and every page route serves the same shell. A
 * cross-site request made by a real browser is in console.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { checkLakeSql, LakeSqlError } from '../../console/lake-sql.ts';
import { startUi, uiConfig, type UiConfig, type UiServer } from '../../console/index.ts';
import { pollUntil } from '../support/poll.ts';

let ui: UiServer;
const others: UiServer[] = [];
beforeAll(async () => {
  ui = await startUi({ ...uiConfig(), port: 0 });
});
afterAll(async () => {
  await ui?.close();
  await Promise.all(others.map((other) => other.close()));
});

/** Another console in this process, with other lake limits. */
async function consoleWith(lake: Partial<UiConfig['lake']>): Promise<UiServer> {
  const config = uiConfig();
  const other = await startUi({ ...config, port: 0, lake: { ...config.lake, ...lake } });
  others.push(other);
  return other;
}

interface Answer {
  status: number;
  type: string | undefined;
  text: string;
}

/** A request with exactly these headers (fetch adds its own, and a browser's Origin/Sec-Fetch-* are what we test). */
function raw(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {},
): Promise<Answer> {
  const url = new URL(base);
  return new Promise<Answer>((resolve, reject) => {
    const sent = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        signal: options.signal,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode!, type: response.headers['content-type'], text }),
        );
      },
    );
    sent.on('error', reject);
    sent.end(options.body);
  });
}

/** POST /api/lake/query as the console's own page sends it. */
async function lakeQuery(base: string, sql: string): Promise<{ status: number; body: LakeAnswer }> {
  const response = await fetch(`${base}/api/lake/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sql }),
  });
  return { status: response.status, body: (await response.json()) as LakeAnswer };
}

interface LakeAnswer {
  rows: Record<string, unknown>[];
  row_count: number;
  truncated: boolean;
  error?: string;
}

interface LakeStatus {
  running: number;
  waiting: number;
}

async function lakeStatus(base: string): Promise<LakeStatus> {
  return (await (await fetch(`${base}/api/lake/status`)).json()) as LakeStatus;
}

/** A query that runs for hours on one thread unless something stops it. */
const ENDLESS = 'SELECT count(*) AS n FROM range(10000000000000)';

describe('the lake gate', () => {
  it.each([
    ['SELECT 1', 'SELECT 1'],
    ['  WITH a AS (SELECT 1) SELECT * FROM a;  ', 'WITH a AS (SELECT 1) SELECT * FROM a'],
    [
      "SELECT 'COPY; DROP' AS text -- a comment with INSERT",
      "SELECT 'COPY; DROP' AS text -- a comment with INSERT",
    ],
  ])('lets a read-only query through: %s', (sql, expected) => {
    expect(checkLakeSql(sql)).toBe(expected);
  });

  it.each([
    ['', /empty/],
    ['SELECT 1; SELECT 2', /only one statement/],
    ["COPY events TO '/tmp/x.parquet'", /only a read-only SELECT or WITH query may run here, not COPY/],
    ["ATTACH '/tmp/x.db'", /not ATTACH/],
    ['INSTALL httpfs', /not INSTALL/],
    ['PRAGMA version', /not PRAGMA/],
    ['SELECT * FROM events; DELETE FROM events', /only one statement/],
    ['WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x', /INSERT is not allowed/],
    ["SELECT * FROM read_csv('/etc/passwd')", /read_csv\(\) is not allowed/],
    ["SELECT * FROM read_parquet('/tmp/*.parquet')", /read_parquet\(\) is not allowed/],
    ["SELECT * FROM query('SELECT 1')", /query\(\) is not allowed/],
    ["SELECT * FROM glob('/etc/*')", /glob\(\) is not allowed/],
    ["SELECT 'unterminated", /unterminated string/],
  ])('refuses %j, saying why', (sql, why) => {
    expect(() => checkLakeSql(sql)).toThrow(LakeSqlError);
    expect(() => checkLakeSql(sql)).toThrow(why);
  });

  it("leaves DuckDB to refuse what the words do not show: a file named in FROM, outside the lake's cache", async () => {
    const { status, body } = await lakeQuery(ui.url, "SELECT * FROM '/etc/hostname'");
    expect(status).toBe(400);
    expect(body.error).toMatch(/hostname/);
  });
});

describe('the console server', () => {
  it('proxies only the Prometheus read endpoints, and only GETs', async () => {
    const refused = await fetch(`${ui.url}/api/prometheus/api/v1/admin/tsdb/delete_series?match[]=up`);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toMatch(/query, query_range, series/);
    const post = await fetch(`${ui.url}/api/prometheus/api/v1/query`, { method: 'POST', body: 'query=up' });
    expect(post.status).toBe(405);
    const query = await fetch(`${ui.url}/api/prometheus/api/v1/query?query=up`);
    expect(query.status).toBe(200);
    expect(((await query.json()) as { status: string }).status).toBe('success');
  });

  it('refuses a request naming another host (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(ui.url);
      request(
        {
          host: url.hostname,
          port: url.port,
          path: '/api/dashboards',
          headers: { host: 'attacker.example' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      )
        .on('error', reject)
        .end();
    });
    expect(status).toBe(403);
  });

  it('serves the same page shell for every page route, and a 404 for others', async () => {
    for (const path of [
      '/traces',
      '/traces/abc',
      '/services',
      '/dashboards',
      '/dashboards/observatory-services',
      '/lake',
    ]) {
      const response = await fetch(`${ui.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(await response.text()).toContain('<script type="module" src="/assets/main.js">');
    }
    expect((await fetch(`${ui.url}/nope`)).status).toBe(404);
    expect((await fetch(`${ui.url}/assets/../package.json`)).status).toBe(404);
    const redirect = await fetch(`${ui.url}/`, { redirect: 'manual' });
    expect(redirect.headers.get('location')).toBe('/traces');
  });

  it('answers a malformed trace ID with 400 and the reason, an unknown one with 404 "not found"', async () => {
    const malformed = await fetch(`${ui.url}/api/traces/xyz`);
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toMatch(/is not a trace ID/);
    const unknown = await fetch(`${ui.url}/api/traces/${'ab'.repeat(16)}`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/not found/);
  });
});

describe('requests from another origin', () => {
  const sql = JSON.stringify({ sql: 'SELECT 42 AS answer' });
  const own = () => `http://${new URL(ui.url).host}`;
  const otherPort = () => `http://127.0.0.1:${Number(new URL(ui.url).port) + 1}`;

  it.each([
    [
      'a text/plain POST from another site',
      { origin: 'https://attacker.example', 'content-type': 'text/plain' },
    ],
    [
      'a JSON POST from another port of this machine',
      { origin: 'OTHER_PORT', 'sec-fetch-site': 'same-site', 'content-type': 'application/json' },
    ],
    ['a POST from a sandboxed page (Origin: null)', { origin: 'null', 'content-type': 'application/json' }],
    [
      'a cross-site POST that names no Origin, marked by Sec-Fetch-Site',
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'content-type': 'text/plain' },
    ],
    [
      'a same-site form POST (navigate), marked by Sec-Fetch-Site',
      { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
    ],
  ])('refuses %s with 403, before running the query', async (_, headers: Record<string, string>) => {
    if (headers.origin === 'OTHER_PORT') headers = { ...headers, origin: otherPort() };
    const answer = await raw(ui.url, '/api/lake/query', { method: 'POST', headers, body: sql });
    expect(answer.status).toBe(403);
    expect(answer.type).toMatch(/^application\/json/);
    expect(JSON.parse(answer.text).error).toMatch(/^refused: .*the console's API answers its own pages/);
  });

  it('refuses a cross-site read of the API (an image, a no-cors fetch) but not a link followed to it', async () => {
    const image = await raw(ui.url, '/api/dashboards', {
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' },
    });
    expect(image.status).toBe(403);
    const link = await raw(ui.url, '/api/dashboards', {
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
    });
    expect(link.status).toBe(200);
  });

  it('answers its own page (same origin, JSON) and a program that sends no browser headers', async () => {
    const page = await raw(ui.url, '/api/lake/query', {
      method: 'POST',
      headers: { origin: own(), 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
      body: sql,
    });
    expect(page.status).toBe(200);
    expect(JSON.parse(page.text).rows).toEqual([{ answer: 42 }]);
    const program = await raw(ui.url, '/api/lake/query', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: sql,
    });
    expect(program.status).toBe(200);
  });

  it('takes only a JSON body: text/plain or a form type is 415, even from no browser', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const answer = await raw(ui.url, '/api/lake/query', {
        method: 'POST',
        headers: { 'content-type': type },
        body: sql,
      });
      expect(answer.status, type).toBe(415);
      expect(JSON.parse(answer.text).error).toMatch(/application\/json/);
    }
  });
});

describe('a malformed address', () => {
  it('answers 400 for a page and for the API, saying why', async () => {
    const page = await raw(ui.url, '/traces/%E0%A4%A');
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/is not valid/);
    const api = await raw(ui.url, '/api/traces/%E0%A4%A');
    expect(api.status).toBe(400);
    expect(JSON.parse(api.text).error).toMatch(/is not valid/);
    expect((await raw(ui.url, '/api/dashboards/%ZZ')).status).toBe(400);
  });
});

describe('a lake query', () => {
  it('runs in the one DuckDB the console shares, with its memory limit and one thread', async () => {
    const { status, body } = await lakeQuery(
      ui.url,
      "SELECT current_setting('memory_limit') AS memory_limit, current_setting('threads') AS threads",
    );
    expect(status).toBe(200);
    expect(body.rows).toEqual([{ memory_limit: '512.0 MiB', threads: 1 }]);
    expect(await lakeStatus(ui.url)).toMatchObject({
      running: 0,
      waiting: 0,
      max_rows: 5000,
      timeout_ms: 30_000,
      memory_mb: 512,
      threads: 1,
    });
  });

  it('answers a result of millions of rows with the first 5 000, from a console whose heap is 128 MiB', async () => {
    // A console that converted every row before the cap would run out of heap here and die.
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--max-old-space-size=128', join(REPO_ROOT, 'cli', 'bin.js'), 'ui', '--port', String(port)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const url = await consoleUrl(child);
      const { status, body } = await lakeQuery(
        url,
        "SELECT range AS i, repeat('x', 100) AS s FROM range(3000000)",
      );
      expect(status).toBe(200);
      expect(body.rows).toHaveLength(5000);
      expect(body.row_count).toBe(5000);
      expect(body.truncated).toBe(true);
      expect(body.rows[0]).toEqual({ i: 0, s: 'x'.repeat(100) });
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('says a small result is not truncated', async () => {
    const { body } = await lakeQuery(ui.url, 'SELECT * FROM range(10)');
    expect(body.rows).toHaveLength(10);
    expect(body.truncated).toBe(false);
  });

  it('is stopped at the time limit with 504, saying which limit', async () => {
    const quick = await consoleWith({ timeoutMs: 300 });
    const { status, body } = await lakeQuery(quick.url, ENDLESS);
    expect(status).toBe(504);
    expect(body.error).toMatch(/ran longer than 0.3 s and was stopped \(OBSERVATORY_UI_LAKE_TIMEOUT_MS\)/);
    expect(await lakeStatus(quick.url)).toMatchObject({ running: 0, waiting: 0 });
  });

  it('is interrupted when its client goes away, and the next query is answered', async () => {
    const patient = await consoleWith({ timeoutMs: 3_600_000 });
    const leave = new AbortController();
    const abandoned = raw(patient.url, '/api/lake/query', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: ENDLESS }),
      signal: leave.signal,
    }).catch((error: Error) => error);
    await pollUntil('the endless query to be running', async () =>
      (await lakeStatus(patient.url)).running === 1 ? true : undefined,
    );
    leave.abort();
    expect(await abandoned).toBeInstanceOf(Error);
    // With a one-hour limit, only the client's departure can have ended it.
    await pollUntil('the engine to report no running or waiting query', async () => {
      const status = await lakeStatus(patient.url);
      return status.running === 0 && status.waiting === 0 ? true : undefined;
    });
    const next = await lakeQuery(patient.url, 'SELECT 42 AS answer');
    expect(next.status).toBe(200);
    expect(next.body.rows).toEqual([{ answer: 42 }]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The URL a started `observatory ui` prints; rejects with its output if it exits first. */
function consoleUrl(child: ChildProcess): Promise<string> {
  let output = '';
  return new Promise<string>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const url = /Observatory console: (http:\/\/\S+)/.exec(output)?.[1];
      if (url) resolve(url);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`observatory ui exited ${code}: ${output}`)));
  });
}
