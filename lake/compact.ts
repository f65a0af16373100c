/**
 * The compaction: raw OTLP JSON objects of the four signals → curated Parquet, Hive-style by event time.
 *   events   raw/events/  → curated/events/event_name=<name>/dt=<day>/, curated/rejected/reason=<r>/dt=<day>/
 *   logs     raw/logs/    → curated/logs/dt=<day>/
 *   metrics  raw/metrics/ → curated/metrics/metric_name=<name>/dt=<day>/
 *   traces   raw/traces/  → curated/spans/dt=<day>/
 * `compact(keys)` takes an explicit batch so the ETL fleet can run it per chunk (one signal, one arrival hour);
 * `compactAll()` compacts what is left.
 *
 * Stages, per signal: select (objects without a manifest marker) → read and deduplicate (each raw object is
 * flattened and appended to NDJSON staging files on disk, then loaded into DuckDB keeping one row per key) → drop
 * existing rows (keys already in the curated partitions the rows land in) → write (Parquet per partition, streamed
 * to the bucket) → mark done (one marker per raw object). Memory stays bounded whatever the input: one raw object
 * is in memory at a time, and DuckDB works in an on-disk database under a memory limit (lakeConfig
 * `compactionMemoryMb`), spilling beyond it.
 *
 * Idempotence: each compacted raw object gets a marker object `lake/manifest/<raw key>.json` (one per object rather
 * than one shared manifest, so parallel chunks never overwrite each other's progress), written only after its
 * Parquet is uploaded. A crash between the two re-processes the object; the dedup makes that harmless: a row's key
 * always maps to the same partition (the partition values come from the row itself), so the rows already written
 * are found there and dropped.
 * Known limit: two compactions running at the same time over the same partition can both write the same row.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { syncPrefix } from './cache.ts';
import { lakeConfig, signalOf, LAKE_SIGNALS, type LakeConfig, type LakeSignal } from './config.ts';
import { StagingWorker, type StagedGroup } from './staging.ts';
import type { Columns, TableName, TableSpec } from './tables.ts';
import { S3Store } from '../common/s3-store.ts';

export interface CompactOptions {
  /** The bucket to read and write. @default the local stack's store */
  store?: S3Store;
  /** @default lakeConfig() */
  config?: LakeConfig;
  /** Re-process objects that already have a manifest marker (dedup still applies). @default false */
  force?: boolean;
  /** With compactAll: only these signals. @default every signal */
  signals?: readonly LakeSignal[];
  /** Told after each Parquet object is uploaded and each signal is marked done (progress, logging, tests). */
  onProgress?: (progress: CompactionProgress) => void | Promise<void>;
}

export type CompactionProgress =
  | { stage: 'written'; signal: LakeSignal; table: TableName; key: string }
  | { stage: 'marked'; signal: LakeSignal; objects: number };

/** What one signal's compaction did. */
export interface LakeSignalStats {
  /** Raw objects compacted. */
  objects: number;
  /** Records, data points or spans read from them. */
  rowsIn: number;
  /** Rows written to the curated zone. */
  rowsOut: number;
  /** Rows left out because their key was already in the batch or in the curated zone. */
  duplicates: number;
}

export interface CompactionResult {
  /** Raw objects compacted in this run. */
  objects: number;
  /** Raw objects skipped because a marker says they were compacted before. */
  skipped: number;
  /** Rows read, every signal. */
  records: number;
  /** Rows written to curated/events/ and curated/rejected/. */
  events: number;
  rejected: number;
  /** Rows left out as duplicates, every signal. */
  duplicates: number;
  /** Curated objects written. */
  files: string[];
  /** Per signal. */
  signals: Record<LakeSignal, LakeSignalStats>;
}

/** One batch's working state: the store, the DuckDB database on disk and the staging folder. */
interface Context {
  store: S3Store;
  config: LakeConfig;
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  work: string;
  onProgress: NonNullable<CompactOptions['onProgress']>;
}

/** Rows per Parquet row group: the writer buffers one per open partition, so smaller groups bound its memory. */
const ROW_GROUP_ROWS = 16_384;
/** The largest staged row (JSON) DuckDB accepts. */
const MAX_ROW_BYTES = 8 << 20;

function markerKey(config: LakeConfig, rawKey: string): string {
  return `${config.manifestPrefix}${rawKey}.json`;
}

/** Raw objects of the signals (default: all) that have no manifest marker yet. */
export async function unprocessedKeys(
  store: S3Store,
  config: LakeConfig,
  signals: readonly LakeSignal[] = LAKE_SIGNALS,
): Promise<string[]> {
  const keys: string[] = [];
  for (const signal of signals) {
    const prefix = config.raw[signal];
    const [raw, markers] = await Promise.all([
      store.list(prefix),
      store.list(`${config.manifestPrefix}${prefix}`),
    ]);
    const done = new Set(markers.map((m) => m.key.slice(config.manifestPrefix.length, -'.json'.length)));
    keys.push(...raw.map((o) => o.key).filter((key) => isRawObject(key) && !done.has(key)));
  }
  return keys;
}

export interface CompactionChunk {
  signal: LakeSignal;
  /** The raw objects' arrival-hour folder (`raw/<signal>/year=…/month=…/day=…/hour=…/`). */
  hour: string;
  keys: string[];
}

/** The work left, chunked per signal and arrival hour, at most `batchSize` objects per chunk. */
export async function planCompaction(
  store: S3Store,
  config: LakeConfig,
  batchSize: number,
  signals: readonly LakeSignal[] = LAKE_SIGNALS,
): Promise<CompactionChunk[]> {
  const byHour = new Map<string, CompactionChunk>();
  for (const key of await unprocessedKeys(store, config, signals)) {
    const hour = `${dirname(key)}/`;
    const chunk = byHour.get(hour) ?? { signal: signalOf(config, key)!, hour, keys: [] };
    chunk.keys.push(key);
    byHour.set(hour, chunk);
  }
  return [...byHour.values()].flatMap((chunk) => {
    const out: CompactionChunk[] = [];
    for (let i = 0; i < chunk.keys.length; i += batchSize) {
      out.push({ ...chunk, keys: chunk.keys.slice(i, i + batchSize) });
    }
    return out;
  });
}

export async function compactAll(options: CompactOptions = {}): Promise<CompactionResult> {
  const config = options.config ?? lakeConfig();
  const store = options.store ?? S3Store.fromSettings(config.s3);
  return compact(await unprocessedKeys(store, config, options.signals), { ...options, config, store });
}

export async function compact(keys: string[], options: CompactOptions = {}): Promise<CompactionResult> {
  const config = options.config ?? lakeConfig();
  const store = options.store ?? S3Store.fromSettings(config.s3);
  const result = emptyResult();
  const bySignal = new Map<LakeSignal, string[]>();
  for (const key of new Set(keys)) {
    const signal = signalOf(config, key);
    if (!signal) {
      throw new Error(
        `raw object ${key} is under no raw prefix of the lake (${Object.values(config.raw).join(', ')})`,
      );
    }
    bySignal.set(signal, [...(bySignal.get(signal) ?? []), key]);
  }
  for (const [signal, signalKeys] of bySignal) {
    const todo = options.force ? signalKeys : await selectKeys(store, config, signalKeys);
    result.skipped += signalKeys.length - todo.length;
    if (todo.length === 0) continue;
    const context = await openContext(store, config, options.onProgress);
    try {
      const stats = await compactSignal(context, signal, todo, result);
      result.signals[signal] = stats;
      result.objects += stats.objects;
      result.records += stats.rowsIn;
      result.duplicates += stats.duplicates;
    } finally {
      await closeContext(context);
    }
  }
  return result;
}

async function compactSignal(
  context: Context,
  signal: LakeSignal,
  keys: string[],
  result: CompactionResult,
): Promise<LakeSignalStats> {
  const stats: LakeSignalStats = { objects: 0, rowsIn: 0, rowsOut: 0, duplicates: 0 };
  // In passes of about compactionPassMb of staged rows: each pass is read, deduplicated (against the passes before it too,
  // whose rows are in the curated zone by then), written and marked done, so no pass outgrows the memory limit.
  for (let next = 0, pass = 0; next < keys.length; pass++) {
    const staged = await stageObjects(context, signal, keys.slice(next), pass);
    next += staged.keys.length;
    stats.rowsIn += staged.rows;
    for (const group of staged.groups) {
      const kept = await loadDeduplicated(context, group);
      const fresh = await dropExisting(context, group.table);
      const files = await writeParquet(context, {
        table: group.table,
        columns: group.columns,
        onUploaded: (key) => context.onProgress({ stage: 'written', signal, table: group.table.name, key }),
      });
      result.files.push(...files);
      stats.rowsOut += fresh;
      stats.duplicates += group.rows - kept + (kept - fresh);
      if (group.table.name === 'events') result.events += fresh;
      if (group.table.name === 'rejected') result.rejected += fresh;
    }
    await markDone(context, staged.keys);
    stats.objects += staged.keys.length;
    await context.onProgress({ stage: 'marked', signal, objects: staged.keys.length });
  }
  return stats;
}

/** Stage 1, select: the keys without a manifest marker (markers listed per raw folder, not the whole manifest). */
async function selectKeys(store: S3Store, config: LakeConfig, keys: string[]): Promise<string[]> {
  const markers = new Set<string>();
  for (const folder of new Set(keys.map((key) => `${dirname(key)}/`))) {
    for (const marker of await store.list(`${config.manifestPrefix}${folder}`)) markers.add(marker.key);
  }
  return keys.filter((key) => !markers.has(markerKey(config, key)));
}

/**
 * Stage 2a, read: raw objects are fetched here one at a time and handed to the staging worker (lake/staging.ts),
 * which flattens them and appends their rows to NDJSON files on disk, until the pass holds compactionPassMb of rows
 * (at least one object). Returns the keys it took, the rows they held and the staged groups.
 */
async function stageObjects(
  context: Context,
  signal: LakeSignal,
  keys: string[],
  pass: number,
): Promise<{ keys: string[]; rows: number; groups: StagedGroup[] }> {
  const dir = join(context.work, `pass-${pass}`);
  await mkdir(dir, { recursive: true });
  const worker = new StagingWorker(dir, signal);
  const taken: string[] = [];
  let rows = 0;
  let stagedBytes = 0;
  try {
    for (const key of keys) {
      if (taken.length > 0 && stagedBytes >= context.config.compactionPassMb * 2 ** 20) break;
      const staged = await worker.stage(key, await context.store.get(key));
      rows += staged.rowsIn;
      stagedBytes = staged.stagedBytes;
      taken.push(key);
    }
    return { keys: taken, rows, groups: await worker.finish() };
  } finally {
    await worker.close();
  }
}

/**
 * Stage 2b, deduplicate: the staged rows are loaded into the `staged` table, and `keep` gets the row ID of one row
 * per key. Only the narrow key columns are hashed (wide rows with maps and lists would not spill as well), so DuckDB
 * stays under its memory limit whatever the batch size. Returns how many rows are kept.
 */
async function loadDeduplicated(context: Context, group: StagedGroup): Promise<number> {
  const { connection } = context;
  const key = group.table.key.map(sqlIdentifier).join(', ');
  await connection.run(`CREATE OR REPLACE TABLE staged AS SELECT * FROM ${readStaged(group)}`);
  await rm(group.path, { force: true });
  await connection.run(
    `CREATE OR REPLACE TABLE keep AS SELECT min(rowid) AS rid FROM staged GROUP BY ${key}`,
  );
  return count(connection, 'SELECT count(*) FROM keep');
}

/**
 * Stage 3, drop existing rows: keys already in the curated partitions the kept rows land in (mirrored into the
 * local cache) are removed from `keep`. Returns how many rows are left.
 */
async function dropExisting(context: Context, table: TableSpec): Promise<number> {
  const { connection, store, config } = context;
  const partitions = await connection.runAndReadAll(
    `SELECT DISTINCT ${table.partitionBy.map(sqlIdentifier).join(', ')} FROM staged`,
  );
  const files: string[] = [];
  for (const values of partitions.getRows()) {
    const path = table.partitionBy.map((column, i) => `${column}=${String(values[i])}`).join('/');
    files.push(...(await syncPrefix(store, config, `${config.curatedPrefix}${table.name}/${path}/`)));
  }
  if (files.length > 0) {
    const key = table.key.map(sqlIdentifier).join(', ');
    const match = table.key
      .map((c) => `staged.${sqlIdentifier(c)} = existing.${sqlIdentifier(c)}`)
      .join(' AND ');
    await connection.run(
      `DELETE FROM keep WHERE rid IN (
         SELECT staged.rowid FROM staged
           JOIN (SELECT DISTINCT ${key} FROM read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning = false)) AS existing
             ON ${match})`,
    );
  }
  return count(connection, 'SELECT count(*) FROM keep');
}

export interface WriteParquetOptions {
  table: TableSpec;
  /** The columns to write, in order; the partition keys become folders, not columns. */
  columns: Columns;
  /** Told after each object is uploaded. */
  onUploaded?: (key: string) => void | Promise<void>;
}

/** Stage 4, write: the kept rows as Parquet, one file per partition, each streamed to the bucket. Returns the keys. */
async function writeParquet(context: Context, options: WriteParquetOptions): Promise<string[]> {
  const { connection, store, config, work } = context;
  const { table, columns } = options;
  const partitionList = table.partitionBy.map(sqlIdentifier).join(', ');
  const partitions = await connection.runAndReadAll(
    `SELECT DISTINCT ${partitionList} FROM staged WHERE rowid IN (SELECT rid FROM keep) ORDER BY ${partitionList}`,
  );
  // One partition, one COPY: DuckDB's PARTITION_BY keeps a writer (a row group, a compressor) open per partition,
  // which with dozens of metric names alone outgrew the memory limit.
  const names = columns
    .filter(([name]) => !table.partitionBy.includes(name))
    .map(([name]) => sqlIdentifier(name))
    .join(', ');
  const written: string[] = [];
  for (const values of partitions.getRows()) {
    const where = table.partitionBy
      .map((column, i) => `${sqlIdentifier(column)} = ${sqlString(String(values[i]))}`)
      .join(' AND ');
    const path = table.partitionBy.map((column, i) => `${column}=${String(values[i])}`).join('/');
    const key = `${config.curatedPrefix}${table.name}/${path}/part-${randomUUID()}.parquet`;
    const file = join(work, `${randomUUID()}.parquet`);
    await connection.run(
      `COPY (SELECT ${names} FROM staged WHERE rowid IN (SELECT rid FROM keep) AND ${where}) TO ${sqlString(file)}
       (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`,
    );
    await store.client.send(
      new PutObjectCommand({
        Bucket: store.bucket,
        Key: key,
        Body: createReadStream(file),
        ContentLength: (await stat(file)).size,
        ContentType: 'application/vnd.apache.parquet',
      }),
    );
    await rm(file);
    written.push(key);
    await options.onUploaded?.(key);
  }
  return written;
}

/** Stage 5, mark done: one marker per raw object, after all its rows are uploaded. */
async function markDone(context: Context, keys: string[]): Promise<void> {
  const compactedAt = new Date().toISOString();
  for (const key of keys) {
    await context.store.put(
      markerKey(context.config, key),
      JSON.stringify({ raw_key: key, compacted_at: compactedAt }),
      'application/json',
    );
  }
}

async function openContext(
  store: S3Store,
  config: LakeConfig,
  onProgress: CompactOptions['onProgress'],
): Promise<Context> {
  const work = await mkdtemp(join(tmpdir(), 'observatory-compact-'));
  const instance = await DuckDBInstance.create(join(work, 'compaction.duckdb'), {
    memory_limit: `${config.compactionMemoryMb}MB`,
    threads: '1',
    preserve_insertion_order: 'false',
    temp_directory: join(work, 'spill'),
  });
  const connection = await instance.connect();
  return { store, config, instance, connection, work, onProgress: onProgress ?? (() => {}) };
}

async function closeContext(context: Context): Promise<void> {
  context.connection.closeSync();
  context.instance.closeSync();
  await rm(context.work, { recursive: true, force: true });
}

function readStaged(group: StagedGroup): string {
  const columns = group.columns.map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`).join(', ');
  // The reader's buffer is twice the largest row it accepts: the 16 MB default alone would take half the memory limit.
  return `read_json(${sqlString(group.path)}, format = 'newline_delimited', maximum_object_size = ${MAX_ROW_BYTES}, columns = {${columns}})`;
}

function isRawObject(key: string): boolean {
  return key.endsWith('.json') || key.endsWith('.json.gz') || key.endsWith('.json.zst');
}

function emptyResult(): CompactionResult {
  const none = (): LakeSignalStats => ({ objects: 0, rowsIn: 0, rowsOut: 0, duplicates: 0 });
  return {
    objects: 0,
    skipped: 0,
    records: 0,
    events: 0,
    rejected: 0,
    duplicates: 0,
    files: [],
    signals: { events: none(), logs: none(), metrics: none(), traces: none() },
  };
}

async function count(connection: DuckDBConnection, sql: string): Promise<number> {
  const reader = await connection.runAndReadAll(sql);
  return Number(reader.getRows()[0]![0]);
}

export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
