/**
 * One DuckDB for many lake queries, as a long-running process (the console) needs it: one database with a memory
 * limit and a thread count of its own instead of a fresh database per query at DuckDB's defaults (80 % of the
 * machine's memory and every core). Queries run one at a time, in arrival order: they share the cache folder the
 * sync rewrites and the views each query redefines, and with one thread a second query would only halve the speed of
 * both. A query streams its rows and stops reading at `maxRows`, so memory never depends on the size of the result,
 * and its AbortSignal interrupts DuckDB mid-query (a closed client, a time limit).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { S3Store } from '../common/s3-store.ts';
import type { LakeConfig } from './config.ts';
import { curatedRoot, jsonRow, openLake, type QueryResult } from './query.ts';
import { lockDown } from './sql-guard.ts';

const INTERRUPT_EVERY_MS = 50;

export interface LakeEngineOptions {
  config: LakeConfig;
  /** @default the store of config.s3 */
  store?: S3Store;
  /** DuckDB's memory limit in MiB; beyond it a query spills to a temporary folder or fails with "Out of Memory". */
  memoryMb: number;
  /** DuckDB's worker threads. */
  threads: number;
  /** Mirror the curated objects before each query; false queries what the cache already has. @default true */
  sync?: boolean;
}

export interface StreamOptions {
  /** Rows read at most; the query stops there and the result says `truncated`. */
  maxRows: number;
  /** Aborting interrupts the query, wherever it is (waiting its turn, syncing, running); it rejects with the reason. */
  signal?: AbortSignal;
}

export interface StreamedResult extends QueryResult {
  /** True when the query had more rows than maxRows (rows holds the first maxRows). */
  truncated: boolean;
}

export interface LakeEngineStatus {
  /** Queries waiting for their turn. */
  waiting: number;
  /** Queries in the engine (syncing the cache or running in DuckDB): 0 or 1. */
  running: number;
}

export class LakeEngine {
  private readonly options: LakeEngineOptions;
  private database?: Promise<{ instance: DuckDBInstance; spill: string }>;
  private turn: Promise<void> = Promise.resolve();
  private waiting = 0;
  private running = 0;

  constructor(options: LakeEngineOptions) {
    this.options = options;
  }

  status(): LakeEngineStatus {
    return { waiting: this.waiting, running: this.running };
  }

  /** Runs one read-only query over the lake (lake/sql-guard.ts decides what may run). */
  async query(sql: string, options: StreamOptions): Promise<StreamedResult> {
    const release = await this.waitForTurn(options.signal);
    this.running++;
    try {
      return await this.run(sql, options);
    } finally {
      this.running--;
      release();
    }
  }

  /** Closes the database once the queries in flight have ended (abort them first to end them now). */
  async close(): Promise<void> {
    await this.turn;
    const database = this.database;
    this.database = undefined;
    if (!database) return;
    const { instance, spill } = await database;
    instance.closeSync();
    await rm(spill, { recursive: true, force: true });
  }

  /** Resolves with a release function once every earlier query has finished; rejects if aborted while waiting. */
  private async waitForTurn(signal: AbortSignal | undefined): Promise<() => void> {
    signal?.throwIfAborted();
    const previous = this.turn;
    let release!: () => void;
    this.turn = new Promise<void>((resolve) => (release = resolve));
    this.waiting++;
    try {
      await abortable(previous, signal);
    } catch (error) {
      // Our place in the line passes on when the query before us ends, not earlier.
      void previous.then(release);
      throw error;
    } finally {
      this.waiting--;
    }
    return release;
  }

  private async run(sql: string, { maxRows, signal }: StreamOptions): Promise<StreamedResult> {
    const { instance } = await this.open();
    const connection = await instance.connect();
    // DuckDB forgets an interrupt that arrives between two statements (each starts afresh), so once aborted the
    // connection is interrupted again until the statement in flight has given up.
    let repeat: NodeJS.Timeout | undefined;
    const interrupt = () => {
      connection.interrupt();
      repeat = setInterval(() => connection.interrupt(), INTERRUPT_EVERY_MS);
    };
    signal?.addEventListener('abort', interrupt, { once: true });
    try {
      signal?.throwIfAborted();
      await openLake(connection, sql, this.options.config, {
        store: this.options.store,
        sync: this.options.sync,
        signal,
      });
      const result = await connection.stream(sql);
      const columns = result.columnNames();
      const types = result.columnTypes().map((t) => String(t));
      const toJson = jsonRow(columns, types);
      const rows: QueryResult['rows'] = [];
      let truncated = false;
      // Chunk by chunk (2 048 rows): only the chunks up to the cap are ever converted or held.
      for await (const chunk of result.yieldRowObjectJson()) {
        for (const row of chunk) {
          if (rows.length === maxRows) truncated = true;
          else rows.push(toJson(row));
        }
        if (truncated || rows.length === maxRows) break;
        signal?.throwIfAborted();
      }
      // A result of exactly maxRows rows is not truncated; one row more is.
      if (!truncated && rows.length === maxRows) {
        const next = await result.fetchChunk();
        truncated = next !== null && next.rowCount > 0;
      }
      return { columns, types, rows, truncated };
    } catch (error) {
      // DuckDB says "INTERRUPT Error: Interrupted!"; the caller wants to know why it was interrupted.
      if (signal?.aborted) throw signal.reason;
      throw error;
    } finally {
      signal?.removeEventListener('abort', interrupt);
      clearInterval(repeat);
      // Closing the connection ends a streaming result that was not read to its end.
      connection.closeSync();
    }
  }

  private open(): Promise<{ instance: DuckDBInstance; spill: string }> {
    // A database that failed to open is not kept: the next query tries again.
    this.database ??= this.create().catch((error: unknown) => {
      this.database = undefined;
      throw error;
    });
    return this.database;
  }

  private async create(): Promise<{ instance: DuckDBInstance; spill: string }> {
    const spill = await mkdtemp(join(tmpdir(), 'observatory-lake-engine-'));
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: `${this.options.memoryMb}MiB`,
      threads: String(this.options.threads),
      // Without it an in-memory database spills into `.tmp` under the current directory.
      temp_directory: spill,
    });
    const connection = await instance.connect();
    try {
      // Once for the whole database: every connection reads only the lake's cache, and nothing can turn that off.
      await lockDown(connection, curatedRoot(this.options.config));
    } finally {
      connection.closeSync();
    }
    return { instance, spill };
  }
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function abortable(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
