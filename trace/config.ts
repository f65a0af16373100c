/**
 * Every default of `observatory trace` in one place, read when called: where Jaeger and the S3 store are (the local
 * stack's unless `OBSERVATORY_JAEGER_URL` and the S3 settings say otherwise), how far around a trace's time span to look for its logs and events, and how
 * `--wait` polls.
 */
import { localStackPorts } from '../common/config.ts';
import { readInteger, readString, type Env } from '../common/env.ts';
import { lakeConfig, type LakeConfig } from '../lake/index.ts';

export interface TraceConfig {
  /** Jaeger's query API. `OBSERVATORY_JAEGER_URL`. @default http://127.0.0.1:<OBSERVATORY_JAEGER_QUERY_PORT> */
  jaegerUrl: string;
  /** The S3 store and the curated lake. */
  lake: LakeConfig;
  /** App logs as the Collector writes them: OTLP JSON, gzip, hourly partitions by arrival time. */
  logsPrefix: string;
  /** Business events not compacted yet, same layout. */
  eventsPrefix: string;
  /** Objects that arrived this long before the trace's first span are still read (clock skew). @default 2 min */
  arrivalBeforeMs: number;
  /** …and this long after its last span (batching, the Collector's disk queue, retries). @default 10 min */
  arrivalAfterMs: number;
  /** Between two polls of `--wait`. @default 1000 */
  pollIntervalMs: number;
  /** One HTTP request to Jaeger. @default 10000 */
  requestTimeoutMs: number;
  /** How far back `--last` searches. @default 1h */
  lastLookback: string;
  /** With `--last --errors`: how many of each service's newest traces are searched for errors. @default 200 */
  errorScanLimit: number;
  /** S3 objects read at once. @default 8 */
  readConcurrency: number;
  /** `NO_COLOR` set (https://no-color.org): no colour even on a terminal. @default false */
  noColor: boolean;
}

export function traceConfig(env: Env = process.env): TraceConfig {
  return {
    jaegerUrl:
      readString(env, 'OBSERVATORY_JAEGER_URL') ?? `http://127.0.0.1:${localStackPorts(env).jaeger.query}`,
    lake: lakeConfig(env),
    logsPrefix: 'raw/logs/',
    eventsPrefix: 'raw/events/',
    arrivalBeforeMs: 2 * 60_000,
    arrivalAfterMs:
      readInteger(env, 'OBSERVATORY_TRACE_ARRIVAL_WINDOW_MINUTES', 10, { min: 0, max: 24 * 60 }) * 60_000,
    pollIntervalMs: 1000,
    requestTimeoutMs: 10_000,
    lastLookback: '1h',
    errorScanLimit: 200,
    readConcurrency: 8,
    noColor: readString(env, 'NO_COLOR') !== undefined,
  };
}
