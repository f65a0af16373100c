/**
 * The lake's defaults in one place, read when called: the S3 store (common/config.ts decides local or cloud), the
 * zone prefixes, the local Parquet cache that queries read (DuckDB cannot read s3:// offline) and the memory the
 * compaction may use.
 */
import { join, resolve } from 'node:path';
import { s3Settings, type S3Settings } from '../common/config.ts';
import { readInteger, readString, type Env } from '../common/env.ts';
import { STATE_ROOT } from '../common/paths.ts';

/** The four signals the Collector writes to the raw zone, each compacted into its own curated table(s). */
export type LakeSignal = 'events' | 'logs' | 'metrics' | 'traces';
export const LAKE_SIGNALS: readonly LakeSignal[] = ['events', 'logs', 'metrics', 'traces'];

export interface LakeConfig {
  /** The store the lake lives in. */
  s3: S3Settings;
  /**
   * Where the Collector's awss3 exporters write each signal (OTLP JSON, gzip — zstd for traces —, hourly by arrival:
   * `<prefix>year=…/month=…/day=…/hour=…/`). @default raw/events/, raw/logs/, raw/metrics/, raw/traces/
   */
  raw: Record<LakeSignal, string>;
  /**
   * Parquet, Hive-style partitions by event time: events/event_name=…/dt=…/, rejected/reason=…/dt=…/, logs/dt=…/,
   * metrics/metric_name=…/dt=…/, spans/dt=…/. @default curated/
   */
  curatedPrefix: string;
  /** One marker object per compacted raw object: `<manifestPrefix><raw key>.json`. @default lake/manifest/ */
  manifestPrefix: string;
  /** Local copies of the curated objects, mirrored before each query. `OBSERVATORY_LAKE_CACHE_DIR`. @default .observatory/lake-cache */
  cacheDir: string;
  /**
   * DuckDB's memory limit during compaction, in MB; beyond it DuckDB spills to a temporary folder, so the process
   * stays bounded whatever the input size. `OBSERVATORY_LAKE_COMPACTION_MEMORY_MB`. @default 64
   */
  compactionMemoryMb: number;
  /**
   * Rows per compaction pass, in MB of staged NDJSON (wide rows — spans with many attributes — make fewer rows per
   * pass): a batch is read, deduplicated, written and marked done a pass at a time, so no pass outgrows the memory
   * limit. `OBSERVATORY_LAKE_COMPACTION_PASS_MB`. @default 8
   */
  compactionPassMb: number;
  /**
   * V8's semi-space (young generation) of a compaction process, in MiB, as an ETL sandbox's
   * (`OBSERVATORY_ETL_SEMI_SPACE_MB`): `observatory lake compact` runs its compaction in a child process with it
   * (lake/compact-process.ts). `OBSERVATORY_LAKE_COMPACTION_SEMI_SPACE_MB`. @default 4
   */
  compactionSemiSpaceMb: number;
  /**
   * glibc's `MALLOC_ARENA_MAX` of the process `observatory lake compact` compacts in (0: glibc's default, up to 8
   * arenas a core); a `MALLOC_ARENA_MAX` in the environment wins. Two lowered a 600-second lake bench's peak by
   * ≈ 11 MiB. @default 2
   */
  compactionMallocArenas: number;
  /**
   * Keys (of rows written, or read back from the lake to drop redelivered ones) one compaction database holds; past
   * it the run goes on in a fresh database. DuckDB's resident memory grows with the database, past its memory limit
   * (an hour of logs in one database peaked at 354 MiB); a fresh one reads back only the objects whose time range
   * meets its next pass's rows, so dedup stays exact. @default 100000
   */
  compactionSeenKeys: number;
  /**
   * The largest record (log record, event, span, data point) the lake stores, in KiB of JSON: a larger one is filed
   * in `rejected` with reason `too_large` (its start kept as the payload) instead of being flattened whole.
   * `OBSERVATORY_LAKE_MAX_RECORD_KB`. @default 1024
   */
  maxRecordKb: number;
  /**
   * The most a raw object may decompress to, in MiB: the Collector's largest batch (4 096 records of 4 KiB) is
   * 17 MB, one record at the receiver's 20 MiB limit fits beside a batch; beyond it the object is filed as failed
   * (a gzip bomb, or not what our Collector writes). The staging worker's heap is sized from it.
   * `OBSERVATORY_LAKE_MAX_OBJECT_MB`. @default 48
   */
  maxObjectMb: number;
  /**
   * An arrival hour is closed this long after it ends: the compaction's watermark (the first hour that may still
   * need work, per signal) never passes an hour that is not closed, so objects written late into it are still found.
   * @default 1
   */
  watermarkGraceHours: number;
  /**
   * How old a raw object's name (the uuidv7 the Collector gives it when it uploads) must be before the listing of
   * its open hour may start after it, once it and every object before it are compacted: an object uploaded later
   * under an older name (a slow upload, another host's clock) is then found when its hour closes, which lists the
   * hour whole. So planning lists what arrived since, not the whole open hour each time.
   * @default 300_000 (5 minutes)
   */
  cursorLagMs: number;
}

export function lakeConfig(env: Env = process.env): LakeConfig {
  const s3 = s3Settings(env);
  return {
    s3,
    raw: { events: 'raw/events/', logs: 'raw/logs/', metrics: 'raw/metrics/', traces: 'raw/traces/' },
    curatedPrefix: 'curated/',
    manifestPrefix: 'lake/manifest/',
    // One cache folder per bucket: a sync deletes the files its bucket lacks, so two buckets must not share one.
    cacheDir: resolve(
      readString(env, 'OBSERVATORY_LAKE_CACHE_DIR') ?? join(STATE_ROOT, 'lake-cache', s3.bucket),
    ),
    compactionMemoryMb: readInteger(env, 'OBSERVATORY_LAKE_COMPACTION_MEMORY_MB', 64, {
      min: 16,
      max: 65_536,
    }),
    compactionPassMb: readInteger(env, 'OBSERVATORY_LAKE_COMPACTION_PASS_MB', 8, { min: 1, max: 65_536 }),
    compactionSemiSpaceMb: readInteger(env, 'OBSERVATORY_LAKE_COMPACTION_SEMI_SPACE_MB', 4, {
      min: 1,
      max: 256,
    }),
    compactionMallocArenas: 2,
    compactionSeenKeys: 100_000,
    maxRecordKb: readInteger(env, 'OBSERVATORY_LAKE_MAX_RECORD_KB', 1024, { min: 1, max: 65_536 }),
    maxObjectMb: readInteger(env, 'OBSERVATORY_LAKE_MAX_OBJECT_MB', 48, { min: 1, max: 4096 }),
    watermarkGraceHours: 1,
    cursorLagMs: 300_000,
  };
}

/** The signal whose raw prefix the key is under, if any. */
export function signalOf(config: LakeConfig, key: string): LakeSignal | undefined {
  return LAKE_SIGNALS.find((signal) => key.startsWith(config.raw[signal]));
}
