/**
 * SQL over the curated zone with embedded DuckDB: views `events` and `rejected` over local copies of the Parquet
 * objects. Every registered typed column is in the `events` view even before any file holds it (as NULL), so a
 * query written against the registry does not fail on an empty or young lake.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, StatementType, type DuckDBConnection } from '@duckdb/node-api';
import { propertyColumns, type ColumnType } from '../tracker/index.ts';
import { syncPrefix } from './cache.ts';
import { sqlString } from './compact.ts';
import { lakeConfig, type LakeConfig } from './config.ts';
import { COMMON_COLUMNS, REJECTED_COLUMNS } from './flatten.ts';
import { S3Store } from '../common/s3-store.ts';

export interface QueryOptions {
  /** @default the local stack's store */
  store?: S3Store;
  /** @default lakeConfig() */
  config?: LakeConfig;
  /** Mirror the curated objects into the cache before querying; false queries what the cache already has. @default true */
  sync?: boolean;
  /**
   * Untrusted SQL: only one SELECT statement runs, and DuckDB may read no file outside the lake's cache folder (no
   * read_csv('/etc/…'), no ATTACH, no extension installs). Anything else throws ReadOnlyQueryError. @default false
   */
  readOnly?: boolean;
}

/** The SQL was refused by a read-only query: the message says why. */
export class ReadOnlyQueryError extends Error {}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface QueryResult {
  columns: string[];
  /** DuckDB type names, e.g. VARCHAR, BIGINT, TIMESTAMP. */
  types: string[];
  rows: Record<string, JsonValue>[];
}

// In the views, the dt partition key reads as a DATE.
const COMMON: [string, ColumnType][] = COMMON_COLUMNS.map(([name, type]) => [
  name,
  name === 'dt' ? 'DATE' : type,
]);
const REJECTED: [string, ColumnType][] = [
  ...COMMON,
  ...REJECTED_COLUMNS.map(([name, type]): [string, ColumnType] => [name, type]),
];

export async function queryLake(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
  const config = options.config ?? lakeConfig();
  if (options.sync ?? true) {
    const store = options.store ?? S3Store.fromSettings(config.s3);
    await syncPrefix(store, config, `${config.curatedPrefix}events/`);
    await syncPrefix(store, config, `${config.curatedPrefix}rejected/`);
  }
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const eventColumns: [string, ColumnType][] = [...COMMON, ...propertyColumns(), ['properties', 'VARCHAR']];
    await createView(
      connection,
      'events',
      join(config.cacheDir, config.curatedPrefix, 'events'),
      eventColumns,
      {
        event_name: 'VARCHAR',
        dt: 'DATE',
      },
    );
    await createView(
      connection,
      'rejected',
      join(config.cacheDir, config.curatedPrefix, 'rejected'),
      REJECTED,
      {
        reason: 'VARCHAR',
        dt: 'DATE',
      },
    );
    const reader = options.readOnly
      ? await runReadOnly(connection, sql, config.cacheDir)
      : await connection.runAndReadAll(sql);
    const columns = reader.columnNames();
    const types = reader.columnTypes().map((t) => String(t));
    const rows = reader.getRowObjectsJson().map((row) => {
      const out: Record<string, JsonValue> = {};
      columns.forEach((column, i) => (out[column] = numeric(row[column] as JsonValue, types[i]!)));
      return out;
    });
    return { columns, types, rows };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Locks the connection down to reading the cache folder, then runs `sql` if DuckDB parses it as one SELECT. */
async function runReadOnly(connection: DuckDBConnection, sql: string, cacheDir: string) {
  await connection.run(`SET allowed_directories = [${sqlString(cacheDir)}]`);
  await connection.run('SET enable_external_access = false');
  await connection.run('SET lock_configuration = true');
  const statements = await connection.extractStatements(sql);
  if (statements.count !== 1) {
    throw new ReadOnlyQueryError(`expected exactly one statement, got ${statements.count}`);
  }
  const prepared = await statements.prepare(0);
  if (prepared.statementType !== StatementType.SELECT) {
    throw new ReadOnlyQueryError(
      `only a SELECT (or WITH … SELECT) query may run here, not a ${StatementType[prepared.statementType]} statement`,
    );
  }
  return prepared.runAndReadAll();
}

/** 64-bit integers come back as strings (JSON has no int64); small ones read better as numbers. */
function numeric(value: JsonValue, type: string): JsonValue {
  if (typeof value === 'string' && /^(BIGINT|HUGEINT|UBIGINT)$/.test(type)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  return value;
}

async function createView(
  connection: DuckDBConnection,
  name: string,
  dir: string,
  columns: [string, ColumnType][],
  hiveTypes: Record<string, ColumnType>,
): Promise<void> {
  const glob = sqlString(join(dir, '**', '*.parquet'));
  const hive = Object.entries(hiveTypes)
    .map(([column, type]) => `${sqlString(column)}: ${type}`)
    .join(', ');
  const source = `read_parquet(${glob}, hive_partitioning = true, union_by_name = true, hive_types = {${hive}})`;
  let present = new Set<string>();
  // No files yet: the view is empty but has every column. Files that DuckDB cannot read are an error, never an
  // empty result.
  if (await hasParquet(dir)) {
    try {
      const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
      present = new Set(described.getRows().map((row) => String(row[0])));
    } catch (error) {
      throw new Error(
        `the ${name} view cannot read the Parquet files under ${dir}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  const select = columns
    .map(([column, type]) =>
      present.has(column)
        ? `CAST("${column}" AS ${type}) AS "${column}"`
        : `CAST(NULL AS ${type}) AS "${column}"`,
    )
    .join(', ');
  await connection.run(
    present.size > 0
      ? `CREATE VIEW ${name} AS SELECT ${select} FROM ${source}`
      : `CREATE VIEW ${name} AS SELECT ${select} WHERE false`,
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
