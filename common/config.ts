/**
 * The ground floor's defaults, read when called: where the local stack's backends listen, and which S3 store every
 * part talks to. Parts above read these instead of the environment; `stack/` adds what only it needs (versions,
 * folders, build keys). Empty values are unset; a bad value warns once, naming the variable, and falls back.
 */
import { readInteger, readPort, readString, warnOnce, type Env } from './env.ts';

/** Ports of the local stack's backends on 127.0.0.1. Each is `OBSERVATORY_<NAME>_PORT`. */
export interface LocalStackPorts {
  collector: {
    /** @default 4317 */
    otlpGrpc: number;
    /** @default 4318 */
    otlpHttp: number;
    /** @default 13133 */
    health: number;
    /** The Collector's own metrics. @default 8888 */
    metrics: number;
    /** The prometheus exporter (application and span metrics). @default 8889 */
    prometheusExporter: number;
  };
  jaeger: {
    /** @default 16686 */
    query: number;
    /** @default 16685 */
    queryGrpc: number;
    /** @default 14317 */
    otlpGrpc: number;
    /** @default 14318 */
    otlpHttp: number;
    /** @default 14133 */
    health: number;
    /** @default 14269 */
    metrics: number;
  };
  /** @default 9090 */
  prometheus: number;
  /** @default 9000 */
  s3: number;
  /** The SQS-compatible queue server. @default 9324 */
  sqs: number;
}

export function localStackPorts(env: Env = process.env): LocalStackPorts {
  return {
    collector: {
      otlpGrpc: readPort(env, 'OBSERVATORY_COLLECTOR_OTLP_GRPC_PORT', 4317),
      otlpHttp: readPort(env, 'OBSERVATORY_COLLECTOR_OTLP_HTTP_PORT', 4318),
      health: readPort(env, 'OBSERVATORY_COLLECTOR_HEALTH_PORT', 13133),
      metrics: readPort(env, 'OBSERVATORY_COLLECTOR_METRICS_PORT', 8888),
      prometheusExporter: readPort(env, 'OBSERVATORY_COLLECTOR_PROMETHEUS_PORT', 8889),
    },
    jaeger: {
      query: readPort(env, 'OBSERVATORY_JAEGER_QUERY_PORT', 16686),
      queryGrpc: readPort(env, 'OBSERVATORY_JAEGER_QUERY_GRPC_PORT', 16685),
      otlpGrpc: readPort(env, 'OBSERVATORY_JAEGER_OTLP_GRPC_PORT', 14317),
      otlpHttp: readPort(env, 'OBSERVATORY_JAEGER_OTLP_HTTP_PORT', 14318),
      health: readPort(env, 'OBSERVATORY_JAEGER_HEALTH_PORT', 14133),
      metrics: readPort(env, 'OBSERVATORY_JAEGER_METRICS_PORT', 14269),
    },
    prometheus: readPort(env, 'OBSERVATORY_PROMETHEUS_PORT', 9090),
    s3: readPort(env, 'OBSERVATORY_S3_PORT', 9000),
    sqs: readPort(env, 'OBSERVATORY_SQS_PORT', 9324),
  };
}

/** The local stack's store accepts any credentials; clients still sign, so these non-secret ones are used. */
export const LOCAL_CREDENTIALS = {
  accessKeyId: 'observatory-local',
  secretAccessKey: 'observatory-local-secret',
} as const;

/** The region local clients sign for. */
export const LOCAL_REGION = 'us-east-1';

/**
 * Whether this process runs on AWS (Lambda, ECS, EC2 with the runtime's variables). The one rule every part uses to
 * choose cloud defaults: the Lambda runtime sets AWS_LAMBDA_FUNCTION_NAME, ECS and Elastic Beanstalk AWS_EXECUTION_ENV.
 */
export function onAws(env: Env = process.env): boolean {
  return (
    readString(env, 'AWS_LAMBDA_FUNCTION_NAME') !== undefined ||
    readString(env, 'AWS_EXECUTION_ENV') !== undefined
  );
}

/**
 * Which S3 store to use. `local`: the local stack's (or `OBSERVATORY_S3_ENDPOINT`), with its fixed credentials.
 * `cloud`: the AWS SDK's standard credential chain, region and endpoint resolution; `OBSERVATORY_S3_ENDPOINT`, when
 * set, points it at an S3-compatible store instead (path-style addressing).
 */
export interface S3Settings {
  /** `OBSERVATORY_S3_MODE`. @default 'cloud' on AWS (see onAws), else 'local' */
  mode: 'local' | 'cloud';
  /** `OBSERVATORY_S3_BUCKET`. @default 'observatory' */
  bucket: string;
  /** `AWS_REGION`, then `AWS_DEFAULT_REGION`. @default 'us-east-1' */
  region: string;
  /** `OBSERVATORY_S3_ENDPOINT`. @default http://127.0.0.1:<OBSERVATORY_S3_PORT> in local mode, none in cloud mode */
  endpoint: string | undefined;
  /**
   * Local mode: the stack's fixed credentials. Cloud mode: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and
   * `AWS_SESSION_TOKEN`) of the environment these settings were read from — the credential chain's first step —
   * or, when those are unset, undefined: the SDK's chain goes on (profile, container and instance roles).
   */
  credentials: Credentials | undefined;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * The key pair of `env`, when it has one. The SDK's own chain reads process.env; reading the settings' environment
 * instead keeps one rule for a caller that passes its own (a command run in-process with another environment).
 */
function environmentCredentials(env: Env): Credentials | undefined {
  const accessKeyId = readString(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = readString(env, 'AWS_SECRET_ACCESS_KEY');
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined;
  const sessionToken = readString(env, 'AWS_SESSION_TOKEN');
  return sessionToken === undefined
    ? { accessKeyId, secretAccessKey }
    : { accessKeyId, secretAccessKey, sessionToken };
}

export function s3Settings(env: Env = process.env, warn?: (message: string) => void): S3Settings {
  const mode = s3Mode(env, warn);
  const endpoint = readString(env, 'OBSERVATORY_S3_ENDPOINT');
  return {
    mode,
    bucket: readString(env, 'OBSERVATORY_S3_BUCKET') ?? 'observatory',
    region: readString(env, 'AWS_REGION') ?? readString(env, 'AWS_DEFAULT_REGION') ?? LOCAL_REGION,
    endpoint: mode === 'local' ? (endpoint ?? `http://127.0.0.1:${localStackPorts(env).s3}`) : endpoint,
    credentials: mode === 'local' ? { ...LOCAL_CREDENTIALS } : environmentCredentials(env),
  };
}

function s3Mode(env: Env, warn?: (message: string) => void): 'local' | 'cloud' {
  const fallback = onAws(env) ? 'cloud' : 'local';
  const raw = readString(env, 'OBSERVATORY_S3_MODE')?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'local' || raw === 'cloud') return raw;
  (warn ?? warnOnce)(`OBSERVATORY_S3_MODE=${JSON.stringify(raw)} is not local or cloud; using ${fallback}`);
  return fallback;
}

/**
 * The bound on flushing telemetry at shutdown (SIGTERM/SIGINT, `shutdown()`, the Tracker's flush), in milliseconds.
 * `OBSERVATORY_SHUTDOWN_TIMEOUT_MS`, at most 60 000. @default 5000
 */
export function shutdownTimeoutMs(env: Env = process.env, warn?: (message: string) => void): number {
  return readInteger(env, 'OBSERVATORY_SHUTDOWN_TIMEOUT_MS', 5000, { min: 0, max: 60_000 }, warn);
}

/**
 * When a long-lived process of ours (the services, the ETL listener) gives V8's pooled heap pages back to the system
 * (common/heap-pages.ts): when the pool holds more than `OBSERVATORY_HEAP_RELEASE_MIB` MiB (0: never; default 32),
 * checked at start and every `OBSERVATORY_HEAP_RELEASE_INTERVAL_MS` (default 5 minutes).
 */
export function heapReleaseSettings(
  env: Env = process.env,
  warn?: (message: string) => void,
): { thresholdMiB: number; intervalMs: number } {
  return {
    thresholdMiB: readInteger(env, 'OBSERVATORY_HEAP_RELEASE_MIB', 32, { min: 0, max: 65_536 }, warn),
    intervalMs: readInteger(env, 'OBSERVATORY_HEAP_RELEASE_INTERVAL_MS', 300_000, { min: 1000 }, warn),
  };
}

/** Which SQS endpoint the ETL's queue path uses: the local queue server, or AWS's regional endpoint. */
export interface SqsSettings {
  /** `OBSERVATORY_SQS_ENDPOINT` (`aws` for the SDK's regional endpoint). @default the local queue server; none on AWS */
  endpoint: string | undefined;
  /** `AWS_REGION`. @default 'us-east-1' */
  region: string;
  /** Fixed credentials for the local server; on AWS as for S3 (see S3Settings.credentials). */
  credentials: Credentials | undefined;
}

export function sqsSettings(env: Env = process.env): SqsSettings {
  const configured = readString(env, 'OBSERVATORY_SQS_ENDPOINT');
  const cloud = configured === 'aws' || (configured === undefined && onAws(env));
  return {
    endpoint: cloud ? undefined : (configured ?? `http://127.0.0.1:${localStackPorts(env).sqs}`),
    region: readString(env, 'AWS_REGION') ?? readString(env, 'AWS_DEFAULT_REGION') ?? LOCAL_REGION,
    credentials: cloud ? environmentCredentials(env) : { ...LOCAL_CREDENTIALS },
  };
}
