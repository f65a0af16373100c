/**
 * `lake query` over the local Parquet cache, without the stack (sync off): an empty lake answers with no rows, but
 * a Parquet file DuckDB cannot read is an error naming the view and the folder — never a silently empty result.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lakeConfig, queryLake } from '../../lake/index.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function cache(): string {
  const dir = mkdtempSync(join(tmpdir(), 'observatory-query-test-'));
  dirs.push(dir);
  return dir;
}

describe('lake query', () => {
  it('answers an empty lake with no rows and every registered column', async () => {
    const config = { ...lakeConfig(), cacheDir: cache() };
    const result = await queryLake('SELECT * FROM events', { config, sync: false });
    expect(result.rows).toEqual([]);
    expect(result.columns).toContain('event_id');
  });

  it('fails with a clear error when a Parquet file in the lake is corrupt', async () => {
    const dir = cache();
    const partition = join(dir, 'curated', 'events', 'event_name=search', 'dt=2026-06-01');
    mkdirSync(partition, { recursive: true });
    writeFileSync(join(partition, 'part-0.parquet'), 'this is not parquet at all');
    const config = { ...lakeConfig(), cacheDir: dir };
    await expect(queryLake('SELECT count(*) AS n FROM events', { config, sync: false })).rejects.toThrow(
      /the events view cannot read the Parquet files under .*curated\/events: .+/,
    );
  });
});
