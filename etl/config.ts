/**
 * Every default of the ETL runtime in one place: fleet size, timeouts, retries, memory, and the prices that turn
 * invocations into money. Read from the environment when called.
 */
import { readBoolean, readInteger, readNumber, readString, type Env } from '../instrumentation/src/env.ts';

export interface EtlConfig {
  /** The listener's port (jobs API). */
  port: number;
  /** Invocations running at once, per function (Lambda's reserved concurrency). */
  concurrency: number;
  /** Per-invocation timeout; the sandbox is killed when it runs out, as Lambda does. */
  timeoutMs: number;
  /** A warm sandbox idle this long is reaped; the next invocation is a cold start. */
  idleMs: number;
  /** Attempts per chunk before it is dead-lettered. */
  maxAttempts: number;
  /** Backoff before retry n is base × 2^(n−1). */
  retryBaseMs: number;
  /** Memory size billed per invocation, as configured on a Lambda function. */
  memoryMb: number;
  /** Largest number of chunks one job may have. */
  maxChunks: number;
  /** The bound on flushing telemetry before a worker acknowledges a chunk. */
  flushTimeoutMs: number;
  /** Lambda's price per GB-second and per request (x86, us-east-1 list prices). */
  pricePerGbSecond: number;
  pricePerRequest: number;
  /** Hourly price of the always-on server the fleet is compared with (an m5.large on demand). */
  alwaysOnHourlyPrice: number;
  /** Accept `fault` in job specs (tests and the demo's fault knobs only). */
  allowFaults: boolean;
  /**
   * How chunks reach workers: `fleet` (the listener invokes local sandboxes directly) or `sqs` (messages on the chunk
   * queue, consumed by Lambda on AWS or, against a local queue server, by the sandboxes here).
   */
  dispatch: 'fleet' | 'sqs';
}

export function etlConfig(env: Env = process.env): EtlConfig {
  return {
    port: readInteger(env, 'OBSERVATORY_ETL_PORT', 8084, { min: 0, max: 65535 }),
    concurrency: readInteger(env, 'OBSERVATORY_ETL_CONCURRENCY', 4, { min: 1, max: 256 }),
    timeoutMs: readInteger(env, 'OBSERVATORY_ETL_TIMEOUT_MS', 30_000, { min: 100 }),
    idleMs: readInteger(env, 'OBSERVATORY_ETL_IDLE_MS', 60_000, { min: 0 }),
    maxAttempts: readInteger(env, 'OBSERVATORY_ETL_MAX_ATTEMPTS', 3, { min: 1, max: 10 }),
    retryBaseMs: readInteger(env, 'OBSERVATORY_ETL_RETRY_BASE_MS', 200, { min: 0 }),
    memoryMb: readInteger(env, 'OBSERVATORY_ETL_MEMORY_MB', 512, { min: 128, max: 10_240 }),
    maxChunks: readInteger(env, 'OBSERVATORY_ETL_MAX_CHUNKS', 1000, { min: 1 }),
    flushTimeoutMs: readInteger(env, 'OBSERVATORY_ETL_FLUSH_TIMEOUT_MS', 2000, { min: 0 }),
    pricePerGbSecond: readNumber(env, 'OBSERVATORY_ETL_PRICE_GB_SECOND', 0.0000166667, { min: 0 }),
    pricePerRequest: readNumber(env, 'OBSERVATORY_ETL_PRICE_REQUEST', 0.0000002, { min: 0 }),
    alwaysOnHourlyPrice: readNumber(env, 'OBSERVATORY_ETL_ALWAYS_ON_HOURLY', 0.096, { min: 0 }),
    allowFaults: readBoolean(env, 'OBSERVATORY_ETL_ALLOW_FAULTS', false),
    dispatch: readString(env, 'OBSERVATORY_ETL_DISPATCH') === 'sqs' ? 'sqs' : 'fleet',
  };
}
