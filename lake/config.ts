/**
 * The lake's defaults in one place, read when called: the S3 store (common/config.ts decides local or cloud), the
 * zone prefixes and the local Parquet cache that queries read (DuckDB cannot read s3:// offline).
 */
import { join, resolve } from 'node:path';
import { s3Settings, type S3Settings } from '../common/config.ts';
import { readInteger, readString, type Env } from '../common/env.ts';
import { STATE_ROOT } from '../common/paths.ts';

export interface LakeConfig {
  /** The store the lake lives in. */
  s3: S3Settings;
  /** Where the Collector writes business events (OTLP JSON, gzip, hourly by arrival). @default raw/events/ */
  rawPrefix: string;
  /** Parquet, Hive-style partitions by event time: events/event_name=…/dt=…/, rejected/reason=…/dt=…/. @default curated/ */
  curatedPrefix: string;
  /** One marker object per compacted raw object: `<manifestPrefix><raw key>.json`. @default lake/manifest/ */
  manifestPrefix: string;
  /**
   * Local copies of the curated objects, mirrored before each query; one folder per bucket, because a sync removes
   * the files its bucket does not have. `OBSERVATORY_LAKE_CACHE_DIR`. @default .observatory/lake-cache/<bucket>
   */
  cacheDir: string;
  /** Raw objects per batch of `observatory lake compact`. `OBSERVATORY_LAKE_COMPACT_BATCH`. @default 25 */
  batchSize: number;
}

export function lakeConfig(env: Env = process.env): LakeConfig {
  const s3 = s3Settings(env);
  return {
    s3,
    rawPrefix: 'raw/events/',
    curatedPrefix: 'curated/',
    manifestPrefix: 'lake/manifest/',
    cacheDir: resolve(
      readString(env, 'OBSERVATORY_LAKE_CACHE_DIR') ?? join(STATE_ROOT, 'lake-cache', s3.bucket),
    ),
    batchSize: readInteger(env, 'OBSERVATORY_LAKE_COMPACT_BATCH', 25, { min: 1, max: 10_000 }),
  };
}
