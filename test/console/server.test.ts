/**
 * The console's server without a browser: the lake gate refuses everything but one read-only query, the Prometheus
 * proxy only reads, a request naming another host is refused, and every page route serves the same shell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLakeSql, LakeSqlError } from '../../console/lake-sql.ts';
import { startUi, uiConfig, type UiServer } from '../../console/index.ts';

let ui: UiServer;
beforeAll(async () => {
  ui = await startUi({ ...uiConfig(), port: 0 });
});
afterAll(async () => {
  await ui?.close();
});

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
    const response = await fetch(`${ui.url}/api/lake/query`, {
      method: 'POST',
      body: JSON.stringify({ sql: "SELECT * FROM '/etc/hostname'" }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/hostname/);
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
