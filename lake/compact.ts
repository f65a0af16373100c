/**
 * The compaction transform: raw OTLP JSON objects → curated Parquet, Hive-style by event time.
 *   curated/events/event_name=<name>/dt=<YYYY-MM-DD>/part-<uuid>.parquet
 *   curated/rejected/reason=<reason>/dt=<YYYY-MM-DD>/part-<uuid>.parquet
 * `compact(keys)` takes an explicit batch so the ETL fleet can run it per chunk; `compactAll()` lists what is left.
 *
 * Idempotence: each compacted raw object gets a marker object `lake/manifest/<raw key>.json` (one per object rather
 * than one shared manifest, so parallel chunks never overwrite each other's progress), written only after its
 * Parquet is uploaded. A crash between the two re-processes the object; the dedup below makes that harmless:
 * rows are dropped when their event_id is already in the batch or in the curated partition they would land in
 * (an event ID always maps to the same event name and event-time day, so no other partition can hold it).
 * Known limit: two compactions running at the same time over the same partition can both write the same event.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { allDefinitions, columnType, COMMON_PROPERTY_COLUMNS, type ColumnType } from '../tracker/index.ts';
import { syncPrefix } from './cache.ts';
import { lakeConfig, type LakeConfig } from './config.ts';
import {
  COMMON_COLUMNS,
  Flattener,
  parseOtlpLogs,
  REJECTED_COLUMNS,
  type EventRow,
  type RejectedRow,
} from './flatten.ts';
import { S3Store } from '../common/s3-store.ts';

export interface CompactOptions {
  /** The bucket to read and write. @default the local stack's store */
  store?: S3Store;
  /** @default lakeConfig() */
  config?: LakeConfig;
  /** Re-process objects that already have a manifest marker (dedup still applies). @default false */
  force?: boolean;
  /** compactAll: raw objects per batch; memory grows with a batch, not with the backlog. @default config.batchSize */
  batchSize?: number;
}

export interface CompactionResult {
  /** Raw objects compacted in this run. */
  objects: number;
  /** Raw objects skipped because a marker says they were compacted before. */
  skipped: number;
  /** Log records read. */
  records: number;
  /** Rows written to curated/events/ and curated/rejected/. */
  events: number;
  rejected: number;
  /** Rows left out because their event_id was already in the batch or in the curated zone. */
  duplicates: number;
  /** Curated objects written. */
  files: string[];
  /** Batches the run took (compactAll); 1 for `compact`. */
  batches: number;
}

const COMMON_TYPES: Record<string, ColumnType> = Object.fromEntries(COMMON_COLUMNS);
const REJECTED_TYPES: Record<string, ColumnType> = {
  ...COMMON_TYPES,
  ...Object.fromEntries(REJECTED_COLUMNS),
};

function markerKey(config: LakeConfig, rawKey: string): string {
  return `${config.manifestPrefix}${rawKey}.json`;
}

/** Raw objects under the raw prefix that have no manifest marker yet. */
export async function unprocessedKeys(store: S3Store, config: LakeConfig): Promise<string[]> {
  const [raw, markers] = await Promise.all([
    store.list(config.rawPrefix),
    store.list(`${config.manifestPrefix}${config.rawPrefix}`),
  ]);
  const done = new Set(markers.map((m) => m.key.slice(config.manifestPrefix.length, -'.json'.length)));
  return raw.map((o) => o.key).filter((key) => isRawObject(key) && !done.has(key));
}

/** Compacts every raw object not compacted yet, `batchSize` objects at a time (each batch is marked when done). */
export async function compactAll(options: CompactOptions = {}): Promise<CompactionResult> {
  const config = options.config ?? lakeConfig();
  const store = options.store ?? S3Store.fromSettings(config.s3);
  const batchSize = options.batchSize ?? config.batchSize;
  const keys = await unprocessedKeys(store, config);
  const total = emptyResult();
  total.batches = 0;
  for (let i = 0; i < keys.length; i += batchSize) {
    const result = await compact(keys.slice(i, i + batchSize), { ...options, config, store });
    for (const field of ['objects', 'skipped', 'records', 'events', 'rejected', 'duplicates'] as const)
      total[field] += result[field];
    total.files.push(...result.files);
    total.batches++;
  }
  return total;
}

function emptyResult(): CompactionResult {
  return { objects: 0, skipped: 0, records: 0, events: 0, rejected: 0, duplicates: 0, files: [], batches: 1 };
}

export async function compact(keys: string[], options: CompactOptions = {}): Promise<CompactionResult> {
  const config = options.config ?? lakeConfig();
  const store = options.store ?? S3Store.fromSettings(config.s3);
  const result = emptyResult();

  let todo = [...new Set(keys)];
  if (!options.force) {
    const markers = new Set(
      (await store.list(`${config.manifestPrefix}${config.rawPrefix}`)).map((m) => m.key),
    );
    todo = todo.filter((key) => !markers.has(markerKey(config, key)));
    result.skipped = keys.length - todo.length;
  }
  if (todo.length === 0) return result;

  const flattener = new Flattener();
  const events = new Map<string, EventRow>();
  const rejected = new Map<string, RejectedRow>();
  const perObject = new Map<string, number>();
  for (const key of todo) {
    const text = await store.getText(key);
    const flat = flattener.flatten(parseOtlpLogs(text, `raw object ${key}`));
    perObject.set(key, flat.records);
    result.records += flat.records;
    for (const row of flat.events) {
      if (events.has(row.event_id)) result.duplicates++;
      else events.set(row.event_id, row);
    }
    for (const row of flat.rejected) {
      if (rejected.has(row.event_id)) result.duplicates++;
      else rejected.set(row.event_id, row);
    }
  }

  const work = await mkdtemp(join(tmpdir(), 'observatory-compact-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const eventRows = await withoutExisting(
      connection,
      store,
      config,
      'events',
      [...events.values()],
      (row) => `event_name=${row.event_name}/dt=${row.dt}`,
    );
    const rejectedRows = await withoutExisting(
      connection,
      store,
      config,
      'rejected',
      [...rejected.values()],
      (row) => `reason=${row.reason}/dt=${row.dt}`,
    );
    result.duplicates += events.size - eventRows.length + rejected.size - rejectedRows.length;

    const byName = new Map<string, EventRow[]>();
    for (const row of eventRows) {
      const rows = byName.get(row.event_name);
      if (rows) rows.push(row);
      else byName.set(row.event_name, [row]);
    }
    for (const [name, rows] of byName) {
      const types = { ...COMMON_TYPES, ...typedColumns(name), properties: 'VARCHAR' as const };
      const flatRows = rows.map(({ typed, ...rest }) => ({ ...rest, ...typed }));
      result.files.push(
        ...(await writeParquet(
          connection,
          store,
          work,
          'events',
          types,
          flatRows,
          ['event_name', 'dt'],
          config,
        )),
      );
    }
    if (rejectedRows.length > 0) {
      result.files.push(
        ...(await writeParquet(
          connection,
          store,
          work,
          'rejected',
          REJECTED_TYPES,
          rejectedRows,
          ['reason', 'dt'],
          config,
        )),
      );
    }
    result.events = eventRows.length;
    result.rejected = rejectedRows.length;

    const compactedAt = new Date().toISOString();
    for (const key of todo) {
      await store.put(
        markerKey(config, key),
        JSON.stringify({ raw_key: key, compacted_at: compactedAt, records: perObject.get(key) ?? 0 }),
        'application/json',
      );
    }
    result.objects = todo.length;
    return result;
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(work, { recursive: true, force: true });
  }
}

/** The typed property columns of one event name (every registered version of it). */
export function typedColumns(eventName: string): Record<string, ColumnType> {
  const columns: Record<string, ColumnType> = {};
  for (const definition of allDefinitions().filter((d) => d.name === eventName)) {
    for (const [property, schema] of Object.entries(definition.schema.properties)) {
      if (!COMMON_PROPERTY_COLUMNS.has(property)) columns[property] = columnType(schema);
    }
  }
  return columns;
}

function isRawObject(key: string): boolean {
  return key.endsWith('.json') || key.endsWith('.json.gz');
}

/** Drops rows whose event_id is already in the curated partition they would land in. */
async function withoutExisting<R extends { event_id: string }>(
  connection: DuckDBConnection,
  store: S3Store,
  config: LakeConfig,
  table: 'events' | 'rejected',
  rows: R[],
  partition: (row: R) => string,
): Promise<R[]> {
  const partitions = [...new Set(rows.map(partition))];
  const existing = new Set<string>();
  for (const part of partitions) {
    const prefix = `${config.curatedPrefix}${table}/${part}/`;
    const files = await syncPrefix(store, config, prefix);
    if (files.length === 0) continue;
    const reader = await connection.runAndReadAll(
      `SELECT event_id FROM read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning = false)`,
    );
    for (const [id] of reader.getRows()) existing.add(String(id));
  }
  return rows.filter((row) => !existing.has(row.event_id));
}

async function writeParquet(
  connection: DuckDBConnection,
  store: S3Store,
  work: string,
  table: 'events' | 'rejected',
  types: Record<string, ColumnType>,
  rows: object[],
  partitionBy: string[],
  config: LakeConfig,
): Promise<string[]> {
  const id = randomUUID();
  const input = join(work, `${table}-${id}.ndjson`);
  await writeFile(input, rows.map((row) => JSON.stringify(row)).join('\n'));
  const output = join(work, `${table}-${id}`);
  const columns = Object.entries(types)
    .map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`)
    .join(', ');
  const names = Object.keys(types).map(sqlIdentifier).join(', ');
  await connection.run(
    `COPY (SELECT ${names} FROM read_json(${sqlString(input)}, format = 'newline_delimited', columns = {${columns}}))
     TO ${sqlString(output)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (${partitionBy.join(', ')}), FILENAME_PATTERN 'part-{uuid}')`,
  );
  const written: string[] = [];
  for (const file of await listFiles(output)) {
    const key = `${config.curatedPrefix}${table}/${relative(output, file).split('\\').join('/')}`;
    await store.put(key, await readFile(file), 'application/vnd.apache.parquet');
    written.push(key);
  }
  return written;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  await mkdir(dir, { recursive: true });
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
