/**
 * SQL over the curated zone with embedded DuckDB: views `events`, `rejected`, `logs`, `metrics` and `spans` over
 * local copies of the Parquet objects (lake/cache.ts). Every column of a table is in its view even before any file
 * holds it (as NULL), so a query written against the documented tables does not fail on an empty or young lake.
 * Only read-only SQL over those views runs (lake/sql-guard.ts).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { syncPrefix } from './cache.ts';
import { sqlIdentifier, sqlString } from './compact.ts';
import { lakeConfig, type LakeConfig } from './config.ts';
import { checkReadOnly, lockDown } from './sql-guard.ts';
import { tableSpecs, type LakeType, type TableName, type TableSpec } from './tables.ts';
import { S3Store } from '../common/s3-store.ts';

export interface QueryOptions {
  /** @default the local stack's store */
  store?: S3Store;
  /** @default lakeConfig() */
  config?: LakeConfig;
  /** Mirror the curated objects into the cache before querying; false queries what the cache already has. @default true */
  sync?: boolean;
  /** The tables to mirror and define (a query over fewer tables syncs less). @default every table */
  tables?: readonly TableName[];
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface QueryResult {
  columns: string[];
  /** DuckDB type names, e.g. VARCHAR, BIGINT, TIMESTAMP, MAP(VARCHAR, VARCHAR). */
  types: string[];
  rows: Record<string, JsonValue>[];
}

/** The lake's table names, for messages and the guard. */
export const TABLE_NAMES: readonly TableName[] = ['events', 'rejected', 'logs', 'metrics', 'spans'];

export async function queryLake(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
  const config = options.config ?? lakeConfig();
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await openLake(connection, sql, config, options);
    await lockDown(connection, curatedRoot(config));
    const reader = await connection.runAndReadAll(sql);
    const columns = reader.columnNames();
    const types = reader.columnTypes().map((t) => String(t));
    return { columns, types, rows: reader.getRowObjectsJson().map(jsonRow(columns, types)) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The one folder a lake query may read: the cache's copy of the curated zone. */
export function curatedRoot(config: LakeConfig): string {
  return `${join(config.cacheDir, config.curatedPrefix)}/`;
}

/**
 * Checks the SQL, mirrors the tables' objects and (re)defines every view on the connection's database. Refused SQL
 * is refused before anything is downloaded.
 */
export async function openLake(
  connection: DuckDBConnection,
  sql: string,
  config: LakeConfig,
  options: Pick<QueryOptions, 'store' | 'sync' | 'tables'> & { signal?: AbortSignal } = {},
): Promise<void> {
  await checkReadOnly(connection, sql, TABLE_NAMES);
  const specs = tableSpecs().filter((t) => !options.tables || options.tables.includes(t.name));
  if (options.sync ?? true) {
    const store = options.store ?? S3Store.fromSettings(config.s3);
    for (const spec of specs) {
      options.signal?.throwIfAborted();
      await syncPrefix(store, config, `${config.curatedPrefix}${spec.name}/`);
    }
  }
  const synced = new Set(specs.map((spec) => spec.name));
  for (const spec of tableSpecs()) {
    options.signal?.throwIfAborted();
    const dir = join(config.cacheDir, config.curatedPrefix, spec.name);
    await createView(connection, spec, dir, synced.has(spec.name));
  }
}

/** A row as DuckDB's JSON converter gives it, with the lake's readability fixes (jsonValue). */
export function jsonRow(
  columns: string[],
  types: string[],
): (row: Record<string, unknown>) => Record<string, JsonValue> {
  return (row) => {
    const out: Record<string, JsonValue> = {};
    columns.forEach((column, i) => (out[column] = jsonValue(row[column] as JsonValue, types[i]!)));
    return out;
  };
}

/** 64-bit integers come back as strings (JSON has no int64): small ones read better as numbers; maps as objects. */
function jsonValue(value: JsonValue, type: string): JsonValue {
  if (typeof value === 'string' && /^(BIGINT|HUGEINT|UBIGINT)$/.test(type)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  if (Array.isArray(value) && /^(BIGINT|HUGEINT|UBIGINT)\[\]$/.test(type)) {
    return value.map((v) => jsonValue(v, type.slice(0, -2)));
  }
  if (Array.isArray(value) && type.startsWith('MAP(')) {
    const out: Record<string, JsonValue> = {};
    for (const entry of value as { key: JsonValue; value: JsonValue }[]) out[String(entry.key)] = entry.value;
    return out;
  }
  return value;
}

/** In the views, the dt partition key reads as a DATE. */
const viewType = (column: string, type: LakeType): LakeType => (column === 'dt' ? 'DATE' : type);

async function createView(
  connection: DuckDBConnection,
  spec: TableSpec,
  dir: string,
  withFiles: boolean,
): Promise<void> {
  const glob = sqlString(join(dir, '**', '*.parquet'));
  const hive = spec.partitionBy
    .map((column) => `${sqlString(column)}: ${column === 'dt' ? 'DATE' : 'VARCHAR'}`)
    .join(', ');
  const source = `read_parquet(${glob}, hive_partitioning = true, union_by_name = true, hive_types = {${hive}})`;
  let present = new Set<string>();
  // No files yet: the view is empty but has every column. Files that DuckDB cannot read are an error, never an
  // empty result.
  if (withFiles && (await hasParquet(dir))) {
    try {
      const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
      present = new Set(described.getRows().map((row) => String(row[0])));
    } catch (error) {
      throw new Error(
        `the ${spec.name} view cannot read the Parquet files under ${dir}: ${(error as Error).message}`,
      );
    }
  }
  const select = spec.columns
    .map(([column, type]) =>
      present.has(column)
        ? `CAST(${sqlIdentifier(column)} AS ${viewType(column, type)}) AS ${sqlIdentifier(column)}`
        : `CAST(NULL AS ${viewType(column, type)}) AS ${sqlIdentifier(column)}`,
    )
    .join(', ');
  await connection.run(
    present.size > 0
      ? `CREATE OR REPLACE VIEW ${spec.name} AS SELECT ${select} FROM ${source}`
      : `CREATE OR REPLACE VIEW ${spec.name} AS SELECT ${select} WHERE false`,
  );
}

async function hasParquet(dir: string): Promise<boolean> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.some((entry) => entry.isFile() && entry.name.endsWith('.parquet'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
