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
 * existing rows (keys already in the curated partitions the rows land in, read from the objects whose time range
 * meets the rows': a duplicate is the same record, with the same time) → write (Parquet per partition, streamed to
 * the bucket, each object named with its rows' time range) → mark done (one marker per raw object). Memory stays bounded whatever the input: one raw object
 * is in memory at a time (its decompressed size bounded, records over the size limit filed as `too_large` rejected
 * rows), DuckDB works in an on-disk database under a memory limit (lakeConfig `compactionMemoryMb`), spilling beyond
 * it, and Parquet row groups are bounded in bytes, not rows (4 096 rows of 4 KiB are 16 MiB).
 *
 * Failures never block the lake: an object the staging worker cannot read (not OTLP JSON, beyond the size bound,
 * out of memory) is filed as failed; a pass that fails in DuckDB (out of memory, a value it refuses) is split in two
 * and each half retried, down to one object, which is then filed as failed. A failed object gets a marker saying so
 * and why (so it is not retried at every run; `force` retries it), is listed in the result and counted in the
 * `lake.compaction.failed_objects` metric; every other object is compacted.
 *
 * Idempotence: each compacted raw object gets a marker object `lake/manifest/<raw key>.json` (one per object rather
 * than one shared manifest, so parallel chunks never overwrite each other's progress), written only after its
 * Parquet is uploaded. A crash between the two re-processes the object; the dedup makes that harmless: a row always
 * maps to the same partition and time (both come from the row itself), so the rows already written are found in an
 * object of that partition whose range holds their time, and dropped.
 * Finding the work (lake/plan.ts): per signal, a watermark (the first arrival hour that may still need work) bounds
 * the listing, so its cost follows the hours not yet compacted, not the lake's history.
 * Known limit: two compactions running at the same time over the same partition can both write the same row.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { metrics, type Counter, type MeterProvider } from '@opentelemetry/api';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { syncSelected } from './cache.ts';
import { lakeConfig, signalOf, type LakeConfig, type LakeSignal } from './config.ts';
import { markerKey, unprocessedKeys } from './plan.ts';
import { publishedDefinitions } from './schemas.ts';
import { ObjectStagingError, StagingWorker, stagingWorkerUrl } from './staging.ts';
import {
  eventColumnsOf,
  isPartitionToken,
  tableSpec,
  type Columns,
  type TableName,
  type TableSpec,
} from './tables.ts';
import { collectGarbage } from '../common/gc.ts';
import { METRICS } from '../common/names.ts';
import { S3Store, type StoredObject } from '../common/s3-store.ts';
import type { EventDefinition } from '../tracker/schema.ts';

export interface CompactOptions {
  /** The bucket to read and write. @default the local stack's store */
  store?: S3Store;
  /** @default lakeConfig() */
  config?: LakeConfig;
  /** Re-process objects that already have a manifest marker, failed ones included (dedup still applies). @default false */
  force?: boolean;
  /** With compactAll: only these signals. @default every signal */
  signals?: readonly LakeSignal[];
  /** Told after each Parquet object is uploaded, each pass is marked done and each object is filed as failed. */
  onProgress?: (progress: CompactionProgress) => void | Promise<void>;
  /** Where the failed-objects counter goes. @default the global meter provider */
  meterProvider?: MeterProvider;
}

export type CompactionProgress =
  | { stage: 'written'; signal: LakeSignal; table: TableName; key: string }
  | { stage: 'marked'; signal: LakeSignal; objects: number }
  | { stage: 'failed'; signal: LakeSignal; key: string; reason: string };

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
  /** Raw objects filed as failed. */
  failed: number;
}

/** A raw object the compaction could not process: filed as failed (marker, metric), every other object goes on. */
export interface FailedObject {
  key: string;
  signal: LakeSignal;
  /** Why, as the failing stage said it (e.g. DuckDB's "Out of Memory Error: …", "… is not OTLP JSON"). */
  reason: string;
}

export interface CompactionResult {
  /** Raw objects compacted in this run. */
  objects: number;
  /** Raw objects skipped because a marker says they were compacted (or failed) before. */
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
  /** Raw objects filed as failed in this run. */
  failed: FailedObject[];
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
  /** Passes (and databases) opened so far: each gets a folder of its own. */
  serial: number;
  onProgress: NonNullable<CompactOptions['onProgress']>;
  failures: Counter;
  /** The staging worker, kept from pass to pass; replaced after an object it could not stage. */
  worker?: StagingWorker;
  /** Team events published beside the data (lake/schemas.ts), read at the first events pass. */
  published?: EventDefinition[];
  /** Curated objects whose keys are in the database's `seen` tables (read from the lake, or written by this run). */
  loaded: Set<string>;
  /** Each curated partition's objects, listed once per run (the run's own objects are in `loaded`). */
  listings: Map<string, StoredObject[]>;
  /** Raw bytes fetched since the main thread last collected its garbage. */
  fetchedBytes: number;
}

/** Rows per Parquet row group at most; the byte bound (a fraction of the memory limit) usually comes first. */
const ROW_GROUP_ROWS = 16_384;
/** The memory limit over this is a row group's byte bound: the writer buffers one, compressed and uncompressed. */
const ROW_GROUP_SHARE = 8;

/** A DuckDB statement failed on this pass's data (out of memory, a value it refuses): the pass can be split. */
class PassDataError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PassDataError';
  }
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
    const list = bySignal.get(signal) ?? [];
    list.push(key);
    bySignal.set(signal, list);
  }
  for (const [signal, signalKeys] of bySignal) {
    const todo = options.force ? signalKeys : await selectKeys(store, config, signalKeys);
    result.skipped += signalKeys.length - todo.length;
    if (todo.length === 0) continue;
    const context = await openContext(store, config, options);
    try {
      const stats = result.signals[signal];
      await compactKeys(context, signal, todo, result, stats);
      result.objects += stats.objects;
      result.records += stats.rowsIn;
      result.duplicates += stats.duplicates;
    } finally {
      await closeContext(context);
    }
  }
  return result;
}

/**
 * Compacts the keys pass by pass, each pass about compactionPassMb of staged rows: read, deduplicated (against the
 * passes before it too, whose rows are in the curated zone by then), written and marked done, so no pass outgrows
 * the memory limit. A pass that fails on its data is split in two and each half compacted the same way; one object
 * that still fails is filed as failed. Every call has fewer keys than its caller, so this ends.
 */
async function compactKeys(
  context: Context,
  signal: LakeSignal,
  keys: string[],
  result: CompactionResult,
  stats: LakeSignalStats,
): Promise<void> {
  let rest = keys;
  while (rest.length > 0) {
    const staged = await stagePass(context, signal, rest, result, stats);
    const settled = new Set([...staged.keys, ...staged.failed]);
    rest = rest.filter((key) => !settled.has(key));
    if (staged.keys.length === 0) continue;
    try {
      await writePass(context, signal, staged, result, stats);
      // A database holds compactionSeenKeys keys at most: DuckDB's memory grows with it (lake/config.ts).
      if ((await seenKeys(context)) > context.config.compactionSeenKeys) await resetDatabase(context);
    } catch (error) {
      if (!(error instanceof PassDataError)) throw error;
      await resetDatabase(context);
      if (staged.keys.length === 1) {
        await fileFailed(context, signal, staged.keys[0]!, error.message, result, stats);
        continue;
      }
      const half = Math.ceil(staged.keys.length / 2);
      await compactKeys(context, signal, staged.keys.slice(0, half), result, stats);
      await compactKeys(context, signal, staged.keys.slice(half), result, stats);
    }
  }
}

/** Rows of one table (and, for events, one event name) staged as NDJSON, with the columns they are read as. */
interface StagedGroup {
  table: TableSpec;
  columns: Columns;
  path: string;
  rows: number;
}

type StagedPass = { keys: string[]; rows: number; groups: StagedGroup[] };

/**
 * Stages the next pass; an object the worker cannot stage is filed as failed and the pass staged again without it
 * (the worker may hold part of its rows). Returns the pass and the keys filed as failed.
 */
async function stagePass(
  context: Context,
  signal: LakeSignal,
  keys: string[],
  result: CompactionResult,
  stats: LakeSignalStats,
): Promise<StagedPass & { failed: string[] }> {
  const failed: string[] = [];
  let candidates = keys;
  while (candidates.length > 0) {
    try {
      return { ...(await stageObjects(context, signal, candidates)), failed };
    } catch (error) {
      if (!(error instanceof ObjectStagingError)) throw error;
      await fileFailed(context, signal, error.key, error.reason, result, stats);
      failed.push(error.key);
      candidates = candidates.filter((key) => key !== error.key);
    }
  }
  return { keys: [], rows: 0, groups: [], failed };
}

/** Stages 2b to 5 for one staged pass: deduplicate, drop existing rows, write Parquet, mark done. */
async function writePass(
  context: Context,
  signal: LakeSignal,
  staged: StagedPass,
  result: CompactionResult,
  stats: LakeSignalStats,
): Promise<void> {
  for (const group of staged.groups) {
    const kept = await loadDeduplicated(context, group);
    const fresh = await dropExisting(context, group.table);
    await writeParquet(context, {
      table: group.table,
      columns: group.columns,
      onUploaded: async (key) => {
        result.files.push(key);
        await context.onProgress({ stage: 'written', signal, table: group.table.name, key });
      },
    });
    await rememberWritten(context, group.table);
    stats.rowsOut += fresh;
    stats.duplicates += group.rows - kept + (kept - fresh);
    if (group.table.name === 'events') result.events += fresh;
    if (group.table.name === 'rejected') result.rejected += fresh;
  }
  // The pass's tables go before the next pass is staged: DuckDB would otherwise keep their blocks cached (up to its
  // memory limit) while the staging worker works beside it.
  await run(
    context,
    'DROP TABLE IF EXISTS staged; DROP TABLE IF EXISTS keep; DROP TABLE IF EXISTS duplicate',
  );
  await markDone(context, staged.keys);
  stats.objects += staged.keys.length;
  stats.rowsIn += staged.rows;
  await context.onProgress({ stage: 'marked', signal, objects: staged.keys.length });
}

/** Files an object as failed: a marker with the reason (so later runs skip it), the result, the metric. */
async function fileFailed(
  context: Context,
  signal: LakeSignal,
  key: string,
  reason: string,
  result: CompactionResult,
  stats: LakeSignalStats,
): Promise<void> {
  await context.store.putJson(markerKey(context.config, key), {
    raw_key: key,
    status: 'failed',
    reason,
    failed_at: new Date().toISOString(),
  });
  result.failed.push({ key, signal, reason });
  stats.failed++;
  context.failures.add(1, { 'lake.signal': signal, 'error.type': failureType(reason) });
  await context.onProgress({ stage: 'failed', signal, key, reason });
}

/** A short class of the reason, for the metric's `error.type` (the reason itself is too varied for a label). */
export function failureType(reason: string): 'out_of_memory' | 'too_large' | 'unreadable' | 'error' {
  if (/out of memory|memory limit/i.test(reason)) return 'out_of_memory';
  if (/decompresses to more than/.test(reason)) return 'too_large';
  if (
    /not OTLP JSON|not OTLP protobuf|header check|unexpected end|unknown compression|invalid|corrupt/i.test(
      reason,
    )
  )
    return 'unreadable';
  return 'error';
}

/** Stage 1, select: the keys without a manifest marker (markers listed per raw folder, not the whole manifest). */
async function selectKeys(store: S3Store, config: LakeConfig, keys: string[]): Promise<string[]> {
  const markers = new Set<string>();
  for (const folder of new Set(keys.map((key) => `${dirname(key)}/`))) {
    for (const marker of await store.listFolder(`${config.manifestPrefix}${folder}`)) markers.add(marker.key);
  }
  return keys.filter((key) => !markers.has(markerKey(config, key)));
}

/**
 * Stage 2a, read: raw objects are fetched here one at a time and handed to the staging worker (lake/staging.ts),
 * which flattens them and appends their rows to NDJSON files on disk, until the pass holds compactionPassMb of rows
 * (at least one object). Returns the keys it took, the rows they held and the staged groups.
 */
async function stageObjects(context: Context, signal: LakeSignal, keys: string[]): Promise<StagedPass> {
  const dir = join(context.work, `pass-${context.serial++}`);
  await mkdir(dir, { recursive: true });
  const { maxObjectMb, maxRecordKb } = context.config;
  // Events are checked against our registry and the schemas teams published beside the data (read once a run).
  if (signal === 'events') context.published ??= await publishedDefinitions(context.store);
  context.worker ??= new StagingWorker(
    await stagingWorkerUrl(),
    signal,
    { maxObjectMb, maxRecordKb },
    context.published,
  );
  const worker = context.worker;
  const taken: string[] = [];
  let rows = 0;
  let stagedBytes = 0;
  try {
    await worker.begin(dir);
    for (const key of keys) {
      if (taken.length > 0 && stagedBytes >= context.config.compactionPassMb * 2 ** 20) break;
      const bytes = await context.store.getBytes(key);
      collectAfter(context, bytes.byteLength);
      const staged = await worker.stage(key, bytes);
      rows += staged.rowsIn;
      stagedBytes = staged.stagedBytes;
      taken.push(key);
    }
    const groups = (await worker.finish()).map(({ table, eventName, path, rows }) => ({
      table: tableSpec(table),
      columns: eventName === undefined ? tableSpec(table).columns : eventColumnsOf(eventName),
      path,
      rows,
    }));
    return { keys: taken, rows, groups };
  } catch (error) {
    // The worker may have died (out of memory) or hold part of an object's rows: the next pass gets a new one.
    context.worker = undefined;
    await worker.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Bytes fetched between two collections of the main thread's garbage. */
const COLLECT_EVERY_BYTES = 8 << 20;

/**
 * Counts the bytes fetched and collects the main thread's garbage every few megabytes. Each download leaves its
 * socket chunks behind as garbage whose memory is outside V8's heap; the main thread allocates too few objects of
 * its own for V8 to collect often, so they piled up to ≈ 60 MB (V8's external-memory trigger) before it did.
 */
function collectAfter(context: Context, bytes: number): void {
  context.fetchedBytes += bytes;
  if (context.fetchedBytes < COLLECT_EVERY_BYTES) return;
  context.fetchedBytes = 0;
  collectGarbage();
}

/**
 * Stage 2b, deduplicate: the staged rows are loaded into the `staged` table, and `keep` gets the row ID of one row
 * per key. Only the narrow key columns are hashed (wide rows with maps and lists would not spill as well), so DuckDB
 * stays under its memory limit whatever the batch size. Returns how many rows are kept.
 */
async function loadDeduplicated(context: Context, group: StagedGroup): Promise<number> {
  const key = group.table.key.map(sqlIdentifier).join(', ');
  await run(context, `CREATE OR REPLACE TABLE staged AS SELECT * FROM ${readStaged(context, group)}`);
  await rm(group.path, { force: true });
  await run(context, `CREATE OR REPLACE TABLE keep AS SELECT min(rowid) AS rid FROM staged GROUP BY ${key}`);
  return count(context, 'SELECT count(*) FROM keep');
}

/**
 * Stage 3, drop existing rows: keys already in the curated partitions the kept rows land in are removed from `keep`.
 * A duplicate is the same record, so it has the same time: only the partition's objects whose time range (in their
 * names, see writeParquet) meets the staged rows' are read — a day partition written every minute holds a day of
 * objects, and reading every one at every run made each run's cost grow with the day. Their keys go once per run
 * (mirrored into the local cache) into the `seen` table, which every pass then adds the keys it wrote to: a pass
 * never re-reads the files earlier passes wrote, and the hash tables are built on the pass's own keys, never on a
 * partition's history, so memory follows the pass size. Returns how many rows are left.
 */
async function dropExisting(context: Context, table: TableSpec): Promise<number> {
  const seen = await seenTable(context, table);
  const partitions = await readRows(
    context,
    `SELECT ${table.partitionBy.map(sqlIdentifier).join(', ')}, ${timeRangeSql(table)} FROM staged
     GROUP BY ALL`,
  );
  for (const row of partitions) {
    const values = row.slice(0, table.partitionBy.length);
    const range = timeRange(row.slice(table.partitionBy.length));
    const prefix = `${context.config.curatedPrefix}${table.name}/${partitionPath(table, values)}/`;
    let listing = context.listings.get(prefix);
    if (!listing) context.listings.set(prefix, (listing = await context.store.listFolder(prefix)));
    const files = await syncSelected(
      context.store,
      context.config,
      prefix,
      (key) => {
        if (context.loaded.has(key)) return false;
        const theirs = objectTimeRange(key);
        return !range || !theirs || (theirs.min <= range.max && range.min <= theirs.max);
      },
      listing,
    );
    if (files.length > 0) {
      const list = files.map(({ path }) => sqlString(path)).join(', ');
      await run(
        context,
        `INSERT INTO ${seen} SELECT ${keyList(table)} FROM read_parquet([${list}], hive_partitioning = false)`,
      );
    }
    for (const { key } of files) context.loaded.add(key);
  }
  const on = (left: string, right: string) =>
    table.key.map((c) => `${left}.${sqlIdentifier(c)} = ${right}.${sqlIdentifier(c)}`).join(' AND ');
  // SEMI JOIN builds its hash table on the right side: first the pass's keys, then the (few) duplicates.
  await run(
    context,
    `CREATE OR REPLACE TEMP TABLE duplicate AS
       SELECT ${keyList(table)} FROM ${seen} AS s SEMI JOIN (SELECT ${keyList(table)} FROM staged) AS k ON ${on('s', 'k')}`,
  );
  await run(
    context,
    `DELETE FROM keep WHERE rid IN (SELECT staged.rowid FROM staged SEMI JOIN duplicate AS d ON ${on('staged', 'd')})`,
  );
  return count(context, 'SELECT count(*) FROM keep');
}

/** The keys of a table's rows seen in this run's partitions (already curated, or written by this run). */
async function seenTable(context: Context, table: TableSpec): Promise<string> {
  const name = sqlIdentifier(`seen_${table.name}`);
  const columns = table.key
    .map((c) => `${sqlIdentifier(c)} ${table.columns.find(([name]) => name === c)![1]}`)
    .join(', ');
  await run(context, `CREATE TABLE IF NOT EXISTS ${name} (${columns})`);
  return name;
}

/** How many keys the database's `seen` tables hold. */
async function seenKeys(context: Context): Promise<number> {
  return count(
    context,
    "SELECT coalesce(sum(estimated_size), 0) FROM duckdb_tables() WHERE table_name LIKE 'seen\\_%' ESCAPE '\\'",
  );
}

/** After a pass is written: its keys join the seen ones, for the passes after it. */
async function rememberWritten(context: Context, table: TableSpec): Promise<void> {
  await run(
    context,
    `INSERT INTO ${await seenTable(context, table)} SELECT ${keyList(table)} FROM staged WHERE rowid IN (SELECT rid FROM keep)`,
  );
}

/** The rows' earliest and latest time (µs since the epoch) and how many have none, as three SQL columns. */
function timeRangeSql(table: TableSpec): string {
  const time = sqlIdentifier(table.timeColumn);
  return `epoch_us(min(${time})), epoch_us(max(${time})), count(*) - count(${time})`;
}

/** A time range from timeRangeSql's three values; undefined when some row has no time (then nothing is skipped). */
function timeRange([min, max, missing]: unknown[]): { min: bigint; max: bigint } | undefined {
  if (Number(missing) > 0 || min === null || max === null) return undefined;
  return { min: BigInt(min as bigint | number), max: BigInt(max as bigint | number) };
}

/** A curated object's name: its rows' time range when every row has a time, `part-<min µs>-<max µs>-<uuid>`. */
function objectName(range: { min: bigint; max: bigint } | undefined): string {
  return range ? `part-${range.min}-${range.max}-${randomUUID()}.parquet` : `part-${randomUUID()}.parquet`;
}

/** The time range in an object's name; undefined for a name without one (older objects): it is always read. */
export function objectTimeRange(key: string): { min: bigint; max: bigint } | undefined {
  const match = /\/part-(-?\d+)-(-?\d+)-[0-9a-f-]{36}\.parquet$/.exec(key);
  return match ? { min: BigInt(match[1]!), max: BigInt(match[2]!) } : undefined;
}

function keyList(table: TableSpec): string {
  return table.key.map(sqlIdentifier).join(', ');
}

/**
 * A row's partition folders, `column=value/…`. The values were reduced to safe tokens when the rows were flattened
 * (tables.ts partitionValue); one that is not is refused here too, so no row can steer a key or a cache path.
 */
function partitionPath(table: TableSpec, values: readonly unknown[]): string {
  return table.partitionBy
    .map((column, i) => {
      const value = String(values[i]);
      if (!isPartitionToken(value))
        throw new PassDataError(
          `refused partition value ${JSON.stringify(value.slice(0, 200))} of ${column}`,
        );
      return `${column}=${value}`;
    })
    .join('/');
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
  const { store, config, work } = context;
  const { table, columns } = options;
  const partitionList = table.partitionBy.map(sqlIdentifier).join(', ');
  const partitions = await readRows(
    context,
    `SELECT ${partitionList}, ${timeRangeSql(table)} FROM staged WHERE rowid IN (SELECT rid FROM keep)
     GROUP BY ALL ORDER BY ${partitionList}`,
  );
  // One partition, one COPY: DuckDB's PARTITION_BY keeps a writer (a row group, a compressor) open per partition,
  // which with dozens of metric names alone outgrew the memory limit.
  const names = columns
    .filter(([name]) => !table.partitionBy.includes(name))
    .map(([name]) => sqlIdentifier(name))
    .join(', ');
  // Row groups bounded in bytes: 16 384 rows of 4 KiB bodies were a 64 MiB row group, the whole memory limit.
  const groupBytes = Math.max(1, Math.floor(config.compactionMemoryMb / ROW_GROUP_SHARE));
  const written: string[] = [];
  for (const row of partitions) {
    const values = row.slice(0, table.partitionBy.length);
    const range = timeRange(row.slice(table.partitionBy.length));
    const where = table.partitionBy
      .map((column, i) => `${sqlIdentifier(column)} = ${sqlString(String(values[i]))}`)
      .join(' AND ');
    const key = `${config.curatedPrefix}${table.name}/${partitionPath(table, values)}/${objectName(range)}`;
    const file = join(work, `${randomUUID()}.parquet`);
    await run(
      context,
      `COPY (SELECT ${names} FROM staged WHERE rowid IN (SELECT rid FROM keep) AND ${where}) TO ${sqlString(file)}
       (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_ROWS}, ROW_GROUP_SIZE_BYTES '${groupBytes}MB')`,
    );
    await store.putFile(key, file, 'application/vnd.apache.parquet');
    await rm(file);
    // Its keys join `seen` after the pass (rememberWritten): never read back by a later pass of this run.
    context.loaded.add(key);
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

async function openContext(store: S3Store, config: LakeConfig, options: CompactOptions): Promise<Context> {
  const work = await mkdtemp(join(tmpdir(), 'observatory-compact-'));
  const failures = (options.meterProvider ?? metrics.getMeterProvider())
    .getMeter('observatory-lake')
    .createCounter(METRICS.lakeFailedObjects.name, { unit: METRICS.lakeFailedObjects.unit });
  const context: Omit<Context, 'instance' | 'connection'> = {
    store,
    config,
    work,
    serial: 0,
    loaded: new Set(),
    listings: new Map(),
    fetchedBytes: 0,
    onProgress: options.onProgress ?? (() => {}),
    failures,
  };
  const database = await openDatabase(context);
  return { ...context, ...database };
}

/** A fresh DuckDB database file of its own under the work folder, under the memory limit, spilling beside it. */
async function openDatabase(
  context: Pick<Context, 'work' | 'config' | 'serial'>,
): Promise<Pick<Context, 'instance' | 'connection'>> {
  const dir = join(context.work, `db-${context.serial++}`);
  await mkdir(dir, { recursive: true });
  const instance = await DuckDBInstance.create(join(dir, 'compaction.duckdb'), {
    memory_limit: `${context.config.compactionMemoryMb}MB`,
    threads: '1',
    preserve_insertion_order: 'false',
    temp_directory: join(dir, 'spill'),
    // Hand freed memory back after each task: its allocator otherwise keeps up to 128 MB of it resident.
    allocator_flush_threshold: '8MB',
    allocator_bulk_deallocation_flush_threshold: '8MB',
  });
  return { instance, connection: await instance.connect() };
}

/**
 * A new database: after a failed pass, so no half-done state (or a database DuckDB invalidated) is carried on; and
 * when the `seen` tables are full (compactionSeenKeys), to hand DuckDB's memory back.
 */
async function resetDatabase(context: Context): Promise<void> {
  context.connection.closeSync();
  context.instance.closeSync();
  context.loaded.clear();
  context.listings.clear();
  Object.assign(context, await openDatabase(context));
}

async function closeContext(context: Context): Promise<void> {
  await context.worker?.close();
  context.connection.closeSync();
  context.instance.closeSync();
  await rm(context.work, { recursive: true, force: true });
}

function readStaged(context: Context, group: StagedGroup): string {
  const columns = group.columns.map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`).join(', ');
  // The reader's buffer is twice the largest row it accepts: the 16 MB default alone would take half the memory
  // limit. A staged row is a record under the size limit (lakeConfig maxRecordKb) and its columns; its JSON escapes
  // can make it longer than the record, hence the margin.
  const maxRowBytes = 2 * context.config.maxRecordKb * 1024 + (1 << 20);
  return `read_json(${sqlString(group.path)}, format = 'newline_delimited', maximum_object_size = ${maxRowBytes}, columns = {${columns}})`;
}

function emptyResult(): CompactionResult {
  const none = (): LakeSignalStats => ({ objects: 0, rowsIn: 0, rowsOut: 0, duplicates: 0, failed: 0 });
  return {
    objects: 0,
    skipped: 0,
    records: 0,
    events: 0,
    rejected: 0,
    duplicates: 0,
    files: [],
    failed: [],
    signals: { events: none(), logs: none(), metrics: none(), traces: none() },
  };
}

/** Runs a statement over the pass's data; DuckDB's refusal (out of memory, a bad value) becomes a PassDataError. */
async function run(context: Context, sql: string): Promise<void> {
  try {
    await context.connection.run(sql);
  } catch (error) {
    throw new PassDataError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

async function readRows(context: Context, sql: string): Promise<unknown[][]> {
  try {
    return (await context.connection.runAndReadAll(sql)).getRows();
  } catch (error) {
    throw new PassDataError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

async function count(context: Context, sql: string): Promise<number> {
  return Number((await readRows(context, sql))[0]![0]);
}

export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
