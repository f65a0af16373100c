/**
 * `lake query` runs read-only SQL over the lake's tables and nothing else: writes, settings, extensions and reading
 * files or URLs are refused with exit 2 and a sentence naming what was refused, before anything is read. Queries
 * over the views, CTEs and computed rows still run (against an empty local cache: no stack needed).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lakeCommand } from '../../cli/lake/command.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import { lakeConfig, queryLake, ReadOnlySqlError } from '../../lake/index.ts';
import { lockDown } from '../../lake/sql-guard.ts';

const cli = async (args: string[]) => {
  const io = { out: '', err: '' };
  const code = await lakeCommand(args, { out: (t) => (io.out += t), err: (t) => (io.err += t) });
  return { code, ...io };
};

const outside = join(mkdtempSync(join(tmpdir(), 'lake-guard-')), 'secret.csv');
writeFileSync(outside, 'a,b\n1,2\n');

describe('lake query', () => {
  const refused: [string, RegExp][] = [
    [`COPY (SELECT 1) TO '${outside}'`, /COPY is not allowed/],
    ["ATTACH 'other.duckdb' AS other", /ATTACH is not allowed/],
    ['INSTALL httpfs', /INSTALL is not allowed/],
    ['LOAD httpfs', /LOAD is not allowed/],
    ['PRAGMA version', /PRAGMA is not allowed/],
    ['SET enable_external_access = true', /SET is not allowed/],
    ['CREATE TABLE t AS SELECT 1', /CREATE is not allowed/],
    ['INSERT INTO events (event_id) VALUES (1)', /INSERT is not allowed/],
    ["UPDATE events SET user_id = 'x'", /UPDATE is not allowed/],
    ['DELETE FROM events', /DELETE is not allowed/],
    ['DROP VIEW events', /DROP is not allowed/],
    ["EXPORT DATABASE '/tmp/x'", /EXPORT is not allowed/],
    ['SELECT 1; DROP VIEW events', /DROP is not allowed/],
    ["/* hidden */ copy (select 1) to 'x.csv'", /COPY is not allowed/],
    [`SELECT * FROM read_csv('${outside}')`, /table function read_csv\(\) is not allowed/],
    [`SELECT * FROM read_parquet('/etc/*.parquet')`, /table function read_parquet\(\) is not allowed/],
    [`SELECT * FROM read_json('https://example.com/x.json')`, /table function read_json\(\) is not allowed/],
    [`SELECT * FROM glob('/etc/*')`, /table function glob\(\) is not allowed/],
    [`SELECT * FROM read_text('/etc/passwd')`, /table function read_text\(\) is not allowed/],
    [`SELECT * FROM '${outside}'`, /reading the file or URL .*secret\.csv.* is not allowed/],
    [
      `SELECT count(*) FROM events WHERE event_id IN (SELECT a FROM read_csv('${outside}'))`,
      /read_csv\(\) is not allowed/,
    ],
    ['SELECT * FROM duckdb_settings()', /table function duckdb_settings\(\) is not allowed/],
    ['SELECT * FROM nowhere', /there is no table "nowhere"/],
  ];
  for (const [sql, message] of refused) {
    it(`refuses ${JSON.stringify(sql.replace(outside, '<file>'))} with exit 2`, async () => {
      const result = await cli(['query', sql]);
      expect(result.code).toBe(2);
      expect(result.err).toMatch(/^observatory lake query: refused: /);
      expect(result.err).toMatch(message);
      expect(result.err).toContain(
        "read-only SQL over the lake's tables (events, rejected, logs, metrics, spans)",
      );
      expect(result.out).toBe('');
    });
  }

  const config = { ...lakeConfig(), cacheDir: mkdtempSync(join(tmpdir(), 'lake-guard-cache-')) };
  const query = (sql: string) => queryLake(sql, { config, sync: false });

  it('runs read-only queries over the five tables, with CTEs and computed rows', async () => {
    const result = await query(`
      WITH counts AS (
        SELECT 'events' AS t, count(*) AS n FROM events UNION ALL SELECT 'rejected', count(*) FROM rejected
        UNION ALL SELECT 'logs', count(*) FROM logs UNION ALL SELECT 'metrics', count(*) FROM metrics
        UNION ALL SELECT 'spans', count(*) FROM spans
      )
      SELECT t, n, (SELECT sum(range) FROM range(4)) AS six FROM counts ORDER BY t`);
    expect(result.rows).toEqual(
      ['events', 'logs', 'metrics', 'rejected', 'spans'].map((t) => ({ t, n: 0, six: 6 })),
    );
    const columns = await query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'metrics' AND column_name LIKE 'bucket%'",
    );
    expect(columns.rows).toEqual([
      { column_name: 'bucket_bounds', data_type: 'DOUBLE[]' },
      { column_name: 'bucket_counts', data_type: 'BIGINT[]' },
    ]);
  });

  it('throws ReadOnlySqlError from the library, before touching the store', async () => {
    // No S3 store answers here: the refusal must come first.
    await expect(
      queryLake(`SELECT * FROM read_csv('${outside}')`, {
        config: { ...config, s3: { ...config.s3, endpoint: 'http://127.0.0.1:1' } },
      }),
    ).rejects.toBeInstanceOf(ReadOnlySqlError);
  });

  it('also locks the engine: with the check bypassed, files outside the lake stay unreadable', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await lockDown(connection, `${config.cacheDir}/`);
    await expect(connection.run(`SELECT * FROM read_csv('${outside}')`)).rejects.toThrow(/Permission Error/);
    await expect(connection.run('SET enable_external_access = true')).rejects.toThrow(/locked/);
    connection.closeSync();
    instance.closeSync();
  });

  it('prints CSV with --csv', async () => {
    const rows = await query(`SELECT 1 AS n, 'a,"b"' AS text, MAP {'k': 'v'} AS m`);
    const { formatCsv } = await import('../../lake/index.ts');
    expect(formatCsv(rows)).toBe('n,text,m\r\n1,"a,""b""","{""k"":""v""}"\r\n');
  });
});
