/**
 * The shared lake engine without the stack (sync off, an empty cache): a result of millions of rows is read only up
 * to the cap, the database has its own memory limit and thread count, an aborted query is interrupted inside DuckDB
 * and the next one runs, a query aborted while waiting its turn never runs, and the engine stays read-only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LakeEngine, lakeConfig, ReadOnlySqlError } from '../../lake/index.ts';

const cacheDir = mkdtempSync(join(tmpdir(), 'observatory-engine-test-'));
const engines: LakeEngine[] = [];
afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  rmSync(cacheDir, { recursive: true, force: true });
});

function engine(memoryMb = 512, threads = 1): LakeEngine {
  const created = new LakeEngine({ config: { ...lakeConfig(), cacheDir }, memoryMb, threads, sync: false });
  engines.push(created);
  return created;
}

/** A query that runs for hours on one thread unless something stops it. */
const ENDLESS = 'SELECT count(*) AS n FROM range(10000000000000)';

describe('the shared lake engine', () => {
  it('answers a query of three million rows with the first maxRows rows, saying it was truncated', async () => {
    const result = await engine().query("SELECT range AS i, repeat('x', 100) AS s FROM range(3000000)", {
      maxRows: 5000,
    });
    expect(result.rows).toHaveLength(5000);
    expect(result.truncated).toBe(true);
    expect(result.rows[4999]).toEqual({ i: 4999, s: 'x'.repeat(100) });
    expect(result.columns).toEqual(['i', 's']);
    expect(result.types).toEqual(['BIGINT', 'VARCHAR']);
  });

  it('says a result of exactly maxRows rows is complete, and one of a row more is not', async () => {
    const lake = engine();
    expect((await lake.query('SELECT * FROM range(4096)', { maxRows: 4096 })).truncated).toBe(false);
    const over = await lake.query('SELECT * FROM range(4097)', { maxRows: 4096 });
    expect(over.rows).toHaveLength(4096);
    expect(over.truncated).toBe(true);
  });

  it('runs with its own memory limit and thread count, not DuckDB’s defaults', async () => {
    const result = await engine(256, 2).query(
      "SELECT current_setting('memory_limit') AS memory_limit, current_setting('threads') AS threads",
      { maxRows: 10 },
    );
    expect(result.rows).toEqual([{ memory_limit: '256.0 MiB', threads: 2 }]);
  });

  it('fails a query that needs more memory than its limit, with DuckDB’s message', async () => {
    await expect(
      engine(64).query('SELECT list(range) AS all_of_them FROM range(20000000)', { maxRows: 1 }),
    ).rejects.toThrow(/Out of Memory/);
  });

  it('interrupts a running query when its signal aborts, with the reason, and runs the next', async () => {
    const lake = engine();
    const stop = new AbortController();
    const endless = lake.query(ENDLESS, { maxRows: 1, signal: stop.signal });
    await expect.poll(() => lake.status().running).toBe(1);
    const reason = new Error('the client left');
    stop.abort(reason);
    await expect(endless).rejects.toBe(reason);
    expect(lake.status()).toEqual({ waiting: 0, running: 0 });
    expect((await lake.query('SELECT 42 AS answer', { maxRows: 1 })).rows).toEqual([{ answer: 42 }]);
  });

  it('stops a query at a time limit given as a signal', async () => {
    const lake = engine();
    await expect(lake.query(ENDLESS, { maxRows: 1, signal: AbortSignal.timeout(200) })).rejects.toMatchObject(
      {
        name: 'TimeoutError',
      },
    );
    expect(lake.status().running).toBe(0);
  });

  it('runs queries one at a time; one aborted while waiting its turn never runs', async () => {
    const lake = engine();
    const first = new AbortController();
    const second = new AbortController();
    const running = lake.query(ENDLESS, { maxRows: 1, signal: first.signal }).catch((e: Error) => e);
    const waiting = lake
      .query('SELECT 1 AS one', { maxRows: 1, signal: second.signal })
      .catch((e: Error) => e);
    const third = lake.query('SELECT 3 AS three', { maxRows: 1 });
    await expect.poll(() => lake.status()).toEqual({ waiting: 2, running: 1 });
    second.abort(new Error('left while waiting'));
    expect(await waiting).toMatchObject({ message: 'left while waiting' });
    expect(lake.status()).toEqual({ waiting: 1, running: 1 });
    first.abort(new Error('left'));
    expect(await running).toMatchObject({ message: 'left' });
    expect((await third).rows).toEqual([{ three: 3 }]);
    expect(lake.status()).toEqual({ waiting: 0, running: 0 });
  });

  it('stays read-only: files outside the lake and configuration changes are refused', async () => {
    const lake = engine();
    await expect(lake.query("SELECT * FROM read_csv('/etc/passwd')", { maxRows: 1 })).rejects.toBeInstanceOf(
      ReadOnlySqlError,
    );
    await expect(lake.query("SET memory_limit = '20GB'", { maxRows: 1 })).rejects.toBeInstanceOf(
      ReadOnlySqlError,
    );
    const after = await lake.query("SELECT current_setting('memory_limit') AS m", { maxRows: 1 });
    expect(after.rows).toEqual([{ m: '512.0 MiB' }]);
  });
});
