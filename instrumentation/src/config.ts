/**
 * Every default of the instrumentation in one place, read from the environment when called (never at import time).
 * The preload composes the SDK's providers itself, as the NodeSDK would (sdk.ts), so this module reads the standard
 * variables that choose what it builds — `OTEL_SDK_DISABLED`, `OTEL_LOG_LEVEL`, the sampler, the exporter and protocol
 * per signal, batching, the metric interval, the enabled and disabled instrumentations, the service name and
 * resource attributes — plus our own `OBSERVATORY_*` settings. sdk.ts reads the rest as the NodeSDK reads them
 * (propagators, resource detectors, span and log record limits); the OTLP exporters read theirs (endpoint,
 * headers, timeout, compression). Our defaults (the local Collector, a 4096-character value limit, a 200 ms batch
 * delay for spans and 1 s for logs, a 10 s metric interval) apply only while the standard variable is unset: a
 * standard variable always wins.
 * A bad value warns (variable, value, fallback) and falls back.
 */
import { localStackPorts, shutdownTimeoutMs } from '../../common/config.ts';
import { DiagLogLevel } from '@opentelemetry/api';
import {
  readBoolean,
  readInteger,
  readList,
  readNumber,
  readString,
  warnOnce,
  type Env,
  type Warn,
} from '../../common/env.ts';

/** OpenTelemetry's signals, as the standard variables name them (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`…). */
export type OtelSignal = 'traces' | 'metrics' | 'logs';
export const OTEL_SIGNALS: readonly OtelSignal[] = ['traces', 'metrics', 'logs'];

export type Protocol = 'http/protobuf' | 'http/json' | 'grpc';
const PROTOCOLS: readonly Protocol[] = ['http/protobuf', 'http/json', 'grpc'];

/** The exporters `OTEL_{TRACES,METRICS,LOGS}_EXPORTER` may name (comma-separated; `none` alone means none). */
export type ExporterName = 'otlp' | 'console';
const EXPORTERS: readonly (ExporterName | 'none')[] = ['otlp', 'console', 'none'];

export interface BatchConfig {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

export interface InstrumentationConfig {
  /** `OTEL_SDK_DISABLED`: start nothing; the app runs uninstrumented (the logger still logs to stdout). @default false */
  disabled: boolean;
  /** `OTEL_LOG_LEVEL`: SDK diagnostics on stderr. @default warn (export errors are invisible below it) */
  logLevel: DiagLogLevel;
  /** `OTEL_{TRACES,METRICS,LOGS}_EXPORTER`. @default otlp for each */
  exporters: Record<OtelSignal, ExporterName[]>;
  /** `OTEL_EXPORTER_OTLP_{SIGNAL}_PROTOCOL`, then `OTEL_EXPORTER_OTLP_PROTOCOL`. @default http/protobuf */
  protocols: Record<OtelSignal, Protocol>;
  /**
   * The OTLP URL we pass per signal, or undefined when `OTEL_EXPORTER_OTLP_ENDPOINT` or the per-signal variable is
   * set (the exporter reads it then). @default the local Collector on 127.0.0.1 (4318 for HTTP, 4317 for gRPC)
   */
  endpoints: Record<OtelSignal, string | undefined>;
  /**
   * Where the flush of an explicit exit after a signal posts OTLP/JSON (exit-flush.ts), from the same variables as
   * the exporters (endpoint and headers, per signal first); undefined for a signal exported over gRPC.
   * @default the local Collector's OTLP/HTTP URL of the signal, no headers
   */
  exitTargets: Record<'traces' | 'logs', OtlpHttpTarget | undefined>;
  /**
   * `OTEL_BSP_*`. @default queue 2048, batch 512, every 200 ms (the SDK: 5000; a quiet service's trace is in Jaeger
   * within a second — under load a batch fills to 512 first, so the shorter delay adds exports only when quiet),
   * timeout 30000 ms
   */
  spans: BatchConfig;
  /** `OTEL_BLRP_*`. @default queue 2048, batch 512, every 1000 ms, timeout 30000 ms */
  logs: BatchConfig;
  /**
   * The attribute value length limit we apply, or undefined when `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` (or the span /
   * log record form) is set and the SDK applies that. @default 4096 (the SDK's own default is unlimited)
   */
  attributeValueLengthLimit: number | undefined;
  /** `OTEL_METRIC_EXPORT_INTERVAL`. @default 10000 */
  metricExportIntervalMillis: number;
  /** `OTEL_METRIC_EXPORT_TIMEOUT` (at most the interval). @default 10000 */
  metricExportTimeoutMillis: number;
  /** `OTEL_TRACES_SAMPLER`: a standard sampler name. @default parentbased_always_on (the SDK's) */
  sampler: string | undefined;
  /** `OTEL_TRACES_SAMPLER_ARG`: the ratio of the ratio samplers, 0–1. @default 1 */
  samplerArg: number;
  /** `OTEL_NODE_ENABLED_INSTRUMENTATIONS` is set: it alone decides the set (our curated defaults step aside). */
  instrumentationsFromEnv: boolean;
  /** `OTEL_NODE_ENABLED_INSTRUMENTATIONS`: short names (`http,express`). @default every upstream one but fs, host-metrics */
  enabledInstrumentations: string[] | undefined;
  /** `OTEL_NODE_DISABLED_INSTRUMENTATIONS`: short names turned off. @default none */
  disabledInstrumentations: string[];
  /** `OTEL_SERVICE_NAME`. @default the name in the app's package.json */
  serviceName: string | undefined;
  /** `OTEL_RESOURCE_ATTRIBUTES`, parsed (key=value pairs, comma-separated, values percent-decoded). */
  resourceAttributes: Record<string, string>;
  /** `OBSERVATORY_STAGE`: deployment.environment.name. @default local */
  stage: string;
  /** `OBSERVATORY_SERVICE_NAMESPACE`: service.namespace. @default observatory */
  serviceNamespace: string;
  /** `OBSERVATORY_SERVICE_VERSION`. @default the version in the app's package.json */
  serviceVersion: string | undefined;
  /** `OBSERVATORY_COMMIT`: vcs.ref.head.revision. @default none */
  commit: string | undefined;
  /** `OBSERVATORY_BAGGAGE_SPAN_ATTRIBUTES`: baggage keys copied onto every span. @default user.id,session.id */
  baggageSpanAttributes: string[];
  /** `OBSERVATORY_SHUTDOWN_TIMEOUT_MS`: the bound on flushing at SIGTERM/SIGINT and in shutdown(). @default 5000 */
  shutdownTimeoutMillis: number;
  /** `OBSERVATORY_TRACERESPONSE`: add the W3C `traceresponse` header to every HTTP response. @default true */
  traceResponse: boolean;
  /** `OBSERVATORY_LOG_LEVEL`: the pino logger's level. @default info */
  appLogLevel: string;
}

const LOG_LEVELS: Record<string, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/** An OTLP/HTTP URL of one signal and the headers to send with it. */
export interface OtlpHttpTarget {
  url: string;
  headers: Record<string, string>;
}

export function instrumentationConfig(env: Env = process.env, warn?: Warn): InstrumentationConfig {
  const say: Warn = warn ?? warnOnce;
  return {
    ...sdkSettings(env, say),
    ...exportSettings(env, say),
    ...serviceSettings(env, say),
    ...observatorySettings(env, say),
  };
}

/** Stage 1: whether to start, and how loud the SDK is. */
function sdkSettings(env: Env, say: Warn) {
  const enabledInstrumentations = names(readString(env, 'OTEL_NODE_ENABLED_INSTRUMENTATIONS'));
  return {
    disabled: readBoolean(env, 'OTEL_SDK_DISABLED', false, say),
    logLevel: LOG_LEVELS[oneOf(env, 'OTEL_LOG_LEVEL', Object.keys(LOG_LEVELS), 'warn', say)]!,
    sampler: readString(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase(),
    samplerArg: readNumber(env, 'OTEL_TRACES_SAMPLER_ARG', 1, { min: 0, max: 1 }, say),
    instrumentationsFromEnv: enabledInstrumentations !== undefined,
    enabledInstrumentations,
    disabledInstrumentations: names(readString(env, 'OTEL_NODE_DISABLED_INSTRUMENTATIONS')) ?? [],
  };
}

/** Stage 2: where each signal goes, how it is batched and bounded. */
function exportSettings(env: Env, say: Warn) {
  const protocols = perSignal((signal) => protocolOf(env, signal, say));
  return {
    exporters: perSignal((signal) => exportersOf(env, signal, say)),
    protocols,
    endpoints: perSignal((signal) => defaultEndpoint(env, signal, protocols[signal])),
    exitTargets: {
      traces: otlpHttpTarget(env, 'traces', protocols.traces),
      logs: otlpHttpTarget(env, 'logs', protocols.logs),
    },
    spans: batch(env, 'OTEL_BSP', 200, say),
    logs: batch(env, 'OTEL_BLRP', 1000, say),
    attributeValueLengthLimit: attributeLimit(env, say),
    metricExportIntervalMillis: readInteger(env, 'OTEL_METRIC_EXPORT_INTERVAL', 10_000, { min: 100 }, say),
    metricExportTimeoutMillis: readInteger(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 10_000, { min: 100 }, say),
  };
}

/** Stage 3: who is speaking (our defaults for the resource; the SDK's env detector overrides them). */
function serviceSettings(env: Env, say: Warn) {
  return {
    serviceName: readString(env, 'OTEL_SERVICE_NAME'),
    resourceAttributes: parseResourceAttributes(readString(env, 'OTEL_RESOURCE_ATTRIBUTES'), say),
    stage: readString(env, 'OBSERVATORY_STAGE') ?? 'local',
    serviceNamespace: readString(env, 'OBSERVATORY_SERVICE_NAMESPACE') ?? 'observatory',
    serviceVersion: readString(env, 'OBSERVATORY_SERVICE_VERSION'),
    commit: readString(env, 'OBSERVATORY_COMMIT'),
  };
}

/** Stage 4: the settings of our own layers. */
function observatorySettings(env: Env, say: Warn) {
  return {
    baggageSpanAttributes: readList(env, 'OBSERVATORY_BAGGAGE_SPAN_ATTRIBUTES', ['user.id', 'session.id']),
    shutdownTimeoutMillis: shutdownTimeoutMs(env, say),
    traceResponse: readBoolean(env, 'OBSERVATORY_TRACERESPONSE', true, say),
    appLogLevel: oneOf(
      env,
      'OBSERVATORY_LOG_LEVEL',
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
      'info',
      say,
    ),
  };
}

function perSignal<T>(read: (signal: OtelSignal) => T): Record<OtelSignal, T> {
  return { traces: read('traces'), metrics: read('metrics'), logs: read('logs') };
}

function protocolOf(env: Env, signal: OtelSignal, say: Warn): Protocol {
  const name = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`;
  if (readString(env, name) !== undefined) return oneOf(env, name, PROTOCOLS, 'http/protobuf', say);
  return oneOf(env, 'OTEL_EXPORTER_OTLP_PROTOCOL', PROTOCOLS, 'http/protobuf', say);
}

function exportersOf(env: Env, signal: OtelSignal, say: Warn): ExporterName[] {
  const name = `OTEL_${signal.toUpperCase()}_EXPORTER`;
  const chosen = new Set<ExporterName>();
  const listed = readList(env, name, ['otlp']).map((item) => item.toLowerCase());
  for (const item of listed) {
    if (item === 'none') return [];
    if ((EXPORTERS as readonly string[]).includes(item)) chosen.add(item as ExporterName);
    else
      say(
        `${name} names unknown exporter ${JSON.stringify(item)} (known: ${EXPORTERS.join(', ')}); ignoring it`,
      );
  }
  return [...chosen];
}

/** Our local default, only while neither the general nor the per-signal endpoint variable is set. */
function defaultEndpoint(env: Env, signal: OtelSignal, protocol: Protocol): string | undefined {
  const perSignal = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`;
  if (readString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') || readString(env, perSignal)) return undefined;
  const ports = localStackPorts(env).collector;
  return protocol === 'grpc'
    ? `http://127.0.0.1:${ports.otlpGrpc}`
    : `http://127.0.0.1:${ports.otlpHttp}/v1/${signal}`;
}

/** The per-signal variables of the signals an explicit exit flushes. */
const EXIT_SIGNAL_VARIABLES = {
  traces: { endpoint: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', headers: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' },
  logs: { endpoint: 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', headers: 'OTEL_EXPORTER_OTLP_LOGS_HEADERS' },
} as const;

/** The URL and headers the OTLP/HTTP exporter of `signal` uses, read the way it reads them; none over gRPC. */
function otlpHttpTarget(env: Env, signal: 'traces' | 'logs', protocol: Protocol): OtlpHttpTarget | undefined {
  if (protocol === 'grpc') return undefined;
  const variables = EXIT_SIGNAL_VARIABLES[signal];
  const base = readString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const url =
    readString(env, variables.endpoint) ??
    (base ? `${base.replace(/\/+$/, '')}/v1/${signal}` : defaultEndpoint(env, signal, protocol)!);
  return {
    url,
    headers: {
      ...parseHeaders(readString(env, 'OTEL_EXPORTER_OTLP_HEADERS')),
      ...parseHeaders(readString(env, variables.headers)),
    },
  };
}

/** `key=value,key2=value2`, each part percent-decoded (the OTLP exporter specification); bad parts are skipped. */
function parseHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const part of text?.split(',') ?? []) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    try {
      headers[decodeURIComponent(part.slice(0, at).trim())] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {
      // A malformed escape: the exporter skips that header too.
    }
  }
  return headers;
}

function attributeLimit(env: Env, say: Warn): number | undefined {
  const standard = {
    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: readString(env, 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'),
    OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: readString(env, 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT'),
    OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: readString(
      env,
      'OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT',
    ),
  };
  for (const [name, value] of Object.entries(standard)) {
    if (value !== undefined) {
      // Validated here only to warn; the SDK's limits take the value itself (sdk.ts).
      readInteger(env, name, 0, { min: 0 }, say);
      return undefined;
    }
  }
  return 4096;
}

/** A comma-separated list of instrumentation names, as upstream splits it; undefined when unset. */
function names(raw: string | undefined): string[] | undefined {
  return raw
    ?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T, warn: Warn): T {
  const raw = readString(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  warn(`${name}=${JSON.stringify(raw)} is not one of ${allowed.join(', ')}; using ${fallback}`);
  return fallback;
}

function batch(env: Env, prefix: 'OTEL_BSP' | 'OTEL_BLRP', scheduledDelay: number, warn: Warn): BatchConfig {
  const maxQueueSize = readInteger(env, `${prefix}_MAX_QUEUE_SIZE`, 2048, { min: 1 }, warn);
  let maxExportBatchSize = readInteger(env, `${prefix}_MAX_EXPORT_BATCH_SIZE`, 512, { min: 1 }, warn);
  if (maxExportBatchSize > maxQueueSize) {
    warn(
      `${prefix}_MAX_EXPORT_BATCH_SIZE=${maxExportBatchSize} exceeds the queue size ${maxQueueSize}; using ${maxQueueSize}`,
    );
    maxExportBatchSize = maxQueueSize;
  }
  return {
    maxQueueSize,
    maxExportBatchSize,
    // 0 is invalid, as the NodeSDK reads these (a timeout of 0 would fail every export): the default applies.
    scheduledDelayMillis: readInteger(env, `${prefix}_SCHEDULE_DELAY`, scheduledDelay, { min: 1 }, warn),
    exportTimeoutMillis: readInteger(env, `${prefix}_EXPORT_TIMEOUT`, 30_000, { min: 1 }, warn),
  };
}

function parseResourceAttributes(raw: string | undefined, warn: Warn): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (raw === undefined) return attributes;
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at).trim() : '';
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      value = '';
    }
    if (key === '' || value === '') {
      warn(`OTEL_RESOURCE_ATTRIBUTES entry ${JSON.stringify(pair)} is not key=value; ignoring it`);
      continue;
    }
    attributes[key] = value;
  }
  return attributes;
}
