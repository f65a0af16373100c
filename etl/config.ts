/**
 * Every default of the ETL in one place: the listener, fleet size, timeouts, retries, memory, the queues, and the
 * prices that turn invocations into money. Read from the environment when called; nothing else in etl/ reads it.
 */
import { onAws, s3Settings, sqsSettings, type S3Settings, type SqsSettings } from '../common/config.ts';
import {
  readBoolean,
  readChoice,
  readInteger,
  readNumber,
  readString,
  warnOnce,
  type Env,
} from '../common/env.ts';
import { FUNCTION_NAMES, type FunctionName } from './types.ts';

export interface EtlConfig {
  /** The listener's port (jobs API). `OBSERVATORY_ETL_PORT`. @default 8084 */
  port: number;
  /** Where the listener listens: loopback, or 0.0.0.0 in a container. `OBSERVATORY_LISTEN_HOST`. @default 127.0.0.1 */
  listenHost: string;
  /** Largest JSON body the jobs API accepts. @default 16kb */
  bodyLimit: string;
  /** Where jobs, results and the lake live (common/config.ts: local or cloud). */
  s3: S3Settings;
  /** The queues of the SQS dispatch path. */
  sqs: SqsSettings & {
    /**
     * `OBSERVATORY_ETL_CHUNK_QUEUE`: a FIFO queue (a name ending in `.fifo`), so that compaction chunks of one signal
     * run one at a time (etl/sqs/queues.ts); its dead-letter queue is `<name>-dlq.fifo` (`<name>-dlq` for a standard
     * queue). @default observatory-etl-chunks.fifo
     */
    chunkQueue: string;
    /** `OBSERVATORY_ETL_RESULT_QUEUE`. @default observatory-etl-results */
    resultQueue: string;
    /** The results queue's URL, for a Lambda worker (set by the template). `OBSERVATORY_ETL_RESULT_QUEUE_URL`. */
    resultQueueUrl: string | undefined;
    /**
     * The visibility timeout of the queues the listener creates (locally): an attempt not acknowledged within it is
     * delivered again, and a chunk with no final result after visibility timeout × attempts counts as failed. Keep it
     * above `timeoutMs`. On AWS the template's queue sets it and the listener reads it from there.
     * `OBSERVATORY_ETL_VISIBILITY_TIMEOUT_S`. @default 60
     */
    visibilityTimeoutSeconds: number;
    /**
     * Against a local queue server, whether the listener also consumes the chunk queue itself, feeding its sandboxes
     * as Lambda's event source mapping would. Off, the queue is left to another consumer (the Lambda artifact under
     * the test's event source mapping). On AWS the listener never consumes it. `OBSERVATORY_ETL_LOCAL_CONSUMER`.
     * @default true
     */
    localConsumer: boolean;
  };
  /** The function a sandbox runs. `OBSERVATORY_ETL_FUNCTION`. @default crop_stats */
  functionName: FunctionName;
  /** Whether this process runs on AWS (common/config.ts's one rule): spans say cloud.provider aws. */
  onAws: boolean;
  /** `AWS_REGION` on AWS, else `local`, for the cloud.region attribute. */
  region: string;
  /** Invocations running at once, per function (Lambda's reserved concurrency). */
  concurrency: number;
  /** Per-invocation timeout; the sandbox is killed when it runs out, as Lambda does. */
  timeoutMs: number;
  /**
   * How long a new sandbox may take to become ready (load the preload and its handler); one that is not ready by then
   * is killed and its slot freed, and the invocation that waited for it fails. `OBSERVATORY_ETL_START_TIMEOUT_MS`.
   * @default 30000
   */
  startTimeoutMs: number;
  /** A warm sandbox idle this long is reaped; the next invocation is a cold start. */
  idleMs: number;
  /** Attempts per chunk before it is dead-lettered. */
  maxAttempts: number;
  /** Backoff before retry n is base × 2^(n−1). */
  retryBaseMs: number;
  /**
   * Memory size billed per invocation, as configured on a Lambda function. A local sandbox also gets it as its V8
   * old-generation limit (`--max-old-space-size`): a heap that outgrows it ends the sandbox, as Lambda ends a
   * function that runs out of memory. `OBSERVATORY_ETL_MEMORY_MB`. @default 512
   */
  memoryMb: number;
  /**
   * A local sandbox's V8 semi-space limit in MiB (`--max-semi-space-size`; the young generation is a few of them).
   * V8 sizes it by the machine's memory, not the sandbox's: on a 24 GiB machine a busy sandbox grew it to 128 MiB
   * of its ~300 MiB RSS. A chunk's garbage is short-lived, so a small young generation only collects more often:
   * 8 MiB measured the same CPU per chunk as V8's default and about 100 MiB less RSS; 4 MiB ≈ 9 MiB less again, what
   * keeps a crop-statistics sandbox under the 110 MiB a 128 MB Lambda leaves it, with no CPU difference we could
   * measure (docs/performance.md, issue 24). `OBSERVATORY_ETL_SEMI_SPACE_MB`. @default 4
   */
  semiSpaceMb: number;
  /**
   * How long a warm crop-statistics sandbox keeps a day's scene list (`catalog/scenes/dt=<day>.json`) before reading
   * it again: every chunk of a day reads the same object, and the catalog changes only when it is seeded anew. 0 reads
   * it for every chunk. `OBSERVATORY_ETL_CATALOG_CACHE_MS`. @default 60000
   */
  catalogCacheMs: number;
  /** Largest number of chunks one job may have. */
  maxChunks: number;
  /**
   * Invocations that may wait for a sandbox, per function (and chunks awaiting a result on the SQS path): a job
   * that does not fit is refused with 429 and `Retry-After`. `OBSERVATORY_ETL_MAX_WAITING`. @default 2000
   */
  maxWaiting: number;
  /** The `Retry-After` of that 429, in seconds. `OBSERVATORY_ETL_BUSY_RETRY_AFTER_S`. @default 10 */
  busyRetryAfterSeconds: number;
  /**
   * How long a finished job stays in the listener's memory; after that GET /jobs/:id reads it from the store.
   * `OBSERVATORY_ETL_JOB_TTL_MS`. @default 600000 (10 minutes)
   */
  jobTtlMs: number;
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

/**
 * The instrumentations a sandbox creates unless `OTEL_NODE_ENABLED_INSTRUMENTATIONS` names others: what a worker uses
 * (its S3 and OTLP requests, its runtime's metrics, pino) — the Lambda artifact's set (deploy/aws/etl/build.ts). The
 * preload's default, every instrumentation whose package is installed, would give a sandbox in this repository the
 * Express, router and gRPC ones too, ≈ 4 MiB for libraries it never loads.
 */
export const SANDBOX_INSTRUMENTATIONS = ['http', 'undici', 'runtime-node', 'pino', 'aws-sdk'] as const;

export function etlConfig(env: Env = process.env): EtlConfig {
  return {
    port: readInteger(env, 'OBSERVATORY_ETL_PORT', 8084, { min: 0, max: 65535 }),
    listenHost: readString(env, 'OBSERVATORY_LISTEN_HOST') ?? '127.0.0.1',
    bodyLimit: '16kb',
    s3: s3Settings(env),
    sqs: {
      ...sqsSettings(env),
      chunkQueue: readString(env, 'OBSERVATORY_ETL_CHUNK_QUEUE') ?? 'observatory-etl-chunks.fifo',
      resultQueue: readString(env, 'OBSERVATORY_ETL_RESULT_QUEUE') ?? 'observatory-etl-results',
      resultQueueUrl: readString(env, 'OBSERVATORY_ETL_RESULT_QUEUE_URL'),
      visibilityTimeoutSeconds: readInteger(env, 'OBSERVATORY_ETL_VISIBILITY_TIMEOUT_S', 60, {
        min: 1,
        max: 43_200,
      }),
      localConsumer: readBoolean(env, 'OBSERVATORY_ETL_LOCAL_CONSUMER', true),
    },
    functionName: readChoice(env, 'OBSERVATORY_ETL_FUNCTION', FUNCTION_NAMES, 'crop_stats'),
    onAws: onAws(env),
    region: onAws(env) ? (readString(env, 'AWS_REGION') ?? 'unknown') : 'local',
    concurrency: readInteger(env, 'OBSERVATORY_ETL_CONCURRENCY', 4, { min: 1, max: 256 }),
    timeoutMs: readInteger(env, 'OBSERVATORY_ETL_TIMEOUT_MS', 30_000, { min: 100 }),
    startTimeoutMs: readInteger(env, 'OBSERVATORY_ETL_START_TIMEOUT_MS', 30_000, { min: 100 }),
    idleMs: readInteger(env, 'OBSERVATORY_ETL_IDLE_MS', 60_000, { min: 0 }),
    maxAttempts: readInteger(env, 'OBSERVATORY_ETL_MAX_ATTEMPTS', 3, { min: 1, max: 10 }),
    retryBaseMs: readInteger(env, 'OBSERVATORY_ETL_RETRY_BASE_MS', 200, { min: 0 }),
    memoryMb: readInteger(env, 'OBSERVATORY_ETL_MEMORY_MB', 512, { min: 128, max: 10_240 }),
    semiSpaceMb: readInteger(env, 'OBSERVATORY_ETL_SEMI_SPACE_MB', 4, { min: 1, max: 256 }),
    catalogCacheMs: readInteger(env, 'OBSERVATORY_ETL_CATALOG_CACHE_MS', 60_000, { min: 0 }),
    maxChunks: readInteger(env, 'OBSERVATORY_ETL_MAX_CHUNKS', 1000, { min: 1 }),
    maxWaiting: readInteger(env, 'OBSERVATORY_ETL_MAX_WAITING', 2000, { min: 0 }),
    busyRetryAfterSeconds: readInteger(env, 'OBSERVATORY_ETL_BUSY_RETRY_AFTER_S', 10, { min: 1, max: 3600 }),
    jobTtlMs: readInteger(env, 'OBSERVATORY_ETL_JOB_TTL_MS', 600_000, { min: 0 }),
    flushTimeoutMs: readInteger(env, 'OBSERVATORY_ETL_FLUSH_TIMEOUT_MS', 2000, { min: 0 }),
    pricePerGbSecond: readNumber(env, 'OBSERVATORY_ETL_PRICE_GB_SECOND', 0.0000166667, { min: 0 }),
    pricePerRequest: readNumber(env, 'OBSERVATORY_ETL_PRICE_REQUEST', 0.0000002, { min: 0 }),
    alwaysOnHourlyPrice: readNumber(env, 'OBSERVATORY_ETL_ALWAYS_ON_HOURLY', 0.096, { min: 0 }),
    allowFaults: readBoolean(env, 'OBSERVATORY_ETL_ALLOW_FAULTS', false),
    dispatch: readDispatch(env),
  };
}

function readDispatch(env: Env): 'fleet' | 'sqs' {
  const raw = readString(env, 'OBSERVATORY_ETL_DISPATCH');
  if (raw === undefined || raw === 'fleet' || raw === 'sqs') return raw ?? 'fleet';
  warnOnce(`OBSERVATORY_ETL_DISPATCH=${JSON.stringify(raw)} is not fleet or sqs; using fleet`);
  return 'fleet';
}
