/**
 * The lake's defaults in one place, read when called: the S3 store (the local stack's, unless a client is passed
 * in), the zone prefixes and the local Parquet cache that queries read (DuckDB cannot read s3:// offline).
 */
import { join, resolve } from 'node:path';
import { readString, type Env } from '../instrumentation/src/env.ts';
import { REPO_ROOT, stackConfig } from '../cli/stack/config.ts';

export interface LakeConfig {
  s3: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  /** Where the Collector writes business events (OTLP JSON, gzip, hourly by arrival). */
  rawPrefix: string;
  /** Parquet, Hive-style partitions by event time: events/event_name=…/dt=…/, rejected/reason=…/dt=…/. */
  curatedPrefix: string;
  /** One marker object per compacted raw object: `<manifestPrefix><raw key>.json`. */
  manifestPrefix: string;
  /** Local copies of the curated objects, mirrored before each query. */
  cacheDir: string;
}

export function lakeConfig(env: Env = process.env): LakeConfig {
  const stack = stackConfig(env);
  return {
    s3: {
      endpoint: readString(env, 'OBSERVATORY_S3_ENDPOINT') ?? `http://127.0.0.1:${stack.s3.port}`,
      region: stack.s3.region,
      bucket: stack.s3.bucket,
      accessKeyId: stack.s3.accessKeyId,
      secretAccessKey: stack.s3.secretAccessKey,
    },
    rawPrefix: 'raw/events/',
    curatedPrefix: 'curated/',
    manifestPrefix: 'lake/manifest/',
    cacheDir: resolve(
      readString(env, 'OBSERVATORY_LAKE_CACHE_DIR') ?? join(REPO_ROOT, '.observatory', 'lake-cache'),
    ),
  };
}
