/**
 * Every default of the instrumentation in one place, read from the environment when called (never at import time).
 * Standard OTEL_* variables first; OBSERVATORY_* only for settings of our own. The OTLP exporters read their own
 * OTEL_EXPORTER_OTLP_* variables (endpoint, headers, timeout, per-signal forms); the SDK 3.x providers no longer read
 * the environment, so the rest is read here. A bad value warns (variable, value, fallback) and falls back.
 */
import { shutdownTimeoutMs } from '../../common/config.ts';
import { DiagLogLevel } from '@opentelemetry/api';
import {
  readBoolean,
  readInteger,
  readList,
  readNumber,
  readString,
  type Env,
  type Warn,
} from '../../common/env.ts';

const INSTRUMENTATION_NAMES = ['http', 'express', 'undici', 'aws-sdk', 'pino', 'runtime-node'] as const;
export type InstrumentationName = (typeof INSTRUMENTATION_NAMES)[number];

const RESOURCE_DETECTOR_NAMES = ['env', 'host', 'os', 'process', 'serviceinstance'] as const;
export type ResourceDetectorName = (typeof RESOURCE_DETECTOR_NAMES)[number];

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

export interface BatchConfig {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

export interface InstrumentationConfig {
  /** OTEL_SDK_DISABLED: start nothing; the app runs uninstrumented (the logger still logs to stdout). */
  disabled: boolean;
  logLevel: DiagLogLevel;
  /** OTEL_EXPORTER_OTLP_PROTOCOL (or per signal): http/protobuf or http/json. */
  protocol: 'http/protobuf' | 'http/json';
  /** Base OTLP/HTTP endpoint used when neither OTEL_EXPORTER_OTLP_ENDPOINT nor a per-signal one is set. */
  defaultEndpoint: string;
  sampler: SamplerName;
  samplerArg: number;
  propagators: ('tracecontext' | 'baggage')[];
  spans: BatchConfig;
  logs: BatchConfig;
  /** OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT; the SDK's own default is unlimited. */
  attributeValueLengthLimit: number;
  metricExportIntervalMillis: number;
  metricExportTimeoutMillis: number;
  resourceDetectors: ResourceDetectorName[];
  instrumentations: InstrumentationName[];
  /** OTEL_SERVICE_NAME. */
  serviceName: string | undefined;
  /** OTEL_RESOURCE_ATTRIBUTES, parsed (key=value pairs, comma-separated, values percent-decoded). */
  resourceAttributes: Record<string, string>;
  /** OBSERVATORY_STAGE: deployment.environment.name. */
  stage: string;
  /** OBSERVATORY_SERVICE_NAMESPACE: service.namespace. */
  serviceNamespace: string;
  /** OBSERVATORY_SERVICE_VERSION, else the version in the app's package.json. */
  serviceVersion: string | undefined;
  /** OBSERVATORY_COMMIT: vcs.ref.head.revision. */
  commit: string | undefined;
  /** OBSERVATORY_BAGGAGE_SPAN_ATTRIBUTES: baggage keys copied onto every span started under them. */
  baggageSpanAttributes: string[];
  /** OBSERVATORY_SHUTDOWN_TIMEOUT_MS: the bound on flushing at SIGTERM/SIGINT and in shutdown(). */
  shutdownTimeoutMillis: number;
  /** OBSERVATORY_TRACERESPONSE: add the W3C `traceresponse` header to every HTTP response. */
  traceResponse: boolean;
  /** OBSERVATORY_LOG_LEVEL: the pino logger's level. */
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

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T, warn: Warn): T {
  const raw = readString(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  warn(`${name}=${JSON.stringify(raw)} is not one of ${allowed.join(', ')}; using ${fallback}`);
  return fallback;
}

function subsetOf<T extends string>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: T[],
  warn: Warn,
  extra: Record<string, T[]> = {},
): T[] {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const chosen = new Set<T>();
  for (const item of readList(env, name, [])) {
    const key = item.toLowerCase();
    if (key in extra) extra[key]!.forEach((value) => chosen.add(value));
    else if ((allowed as readonly string[]).includes(key)) chosen.add(key as T);
    else
      warn(`${name} names unknown entry ${JSON.stringify(item)} (known: ${allowed.join(', ')}); ignoring it`);
  }
  return [...chosen];
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
    scheduledDelayMillis: readInteger(env, `${prefix}_SCHEDULE_DELAY`, scheduledDelay, { min: 0 }, warn),
    exportTimeoutMillis: readInteger(env, `${prefix}_EXPORT_TIMEOUT`, 30_000, { min: 0 }, warn),
  };
}

export function instrumentationConfig(env: Env = process.env, warn?: Warn): InstrumentationConfig {
  const say: Warn = warn ?? ((message) => process.stderr.write(`observatory: ${message}\n`));
  const protocol = readString(env, 'OTEL_EXPORTER_OTLP_PROTOCOL')?.toLowerCase();
  let chosenProtocol: InstrumentationConfig['protocol'] = 'http/protobuf';
  if (protocol === 'http/json') chosenProtocol = 'http/json';
  else if (protocol !== undefined && protocol !== 'http/protobuf') {
    say(
      `OTEL_EXPORTER_OTLP_PROTOCOL=${JSON.stringify(protocol)} is not supported here (http/protobuf, http/json); using http/protobuf`,
    );
  }
  const propagators = subsetOf(
    env,
    'OTEL_PROPAGATORS',
    ['tracecontext', 'baggage'] as const,
    ['tracecontext', 'baggage'],
    say,
    {
      none: [],
    },
  );
  const disabledInstrumentations = subsetOf(
    env,
    'OTEL_NODE_DISABLED_INSTRUMENTATIONS',
    INSTRUMENTATION_NAMES,
    [],
    say,
  );
  return {
    disabled: readBoolean(env, 'OTEL_SDK_DISABLED', false, say),
    logLevel: LOG_LEVELS[oneOf(env, 'OTEL_LOG_LEVEL', Object.keys(LOG_LEVELS), 'warn', say)]!,
    protocol: chosenProtocol,
    defaultEndpoint: 'http://127.0.0.1:4318',
    sampler: oneOf(env, 'OTEL_TRACES_SAMPLER', SAMPLERS, 'parentbased_always_on', say),
    samplerArg: readNumber(env, 'OTEL_TRACES_SAMPLER_ARG', 1, { min: 0, max: 1 }, say),
    propagators,
    spans: batch(env, 'OTEL_BSP', 5000, say),
    logs: batch(env, 'OTEL_BLRP', 1000, say),
    attributeValueLengthLimit: readInteger(env, 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 4096, { min: 1 }, say),
    metricExportIntervalMillis: readInteger(env, 'OTEL_METRIC_EXPORT_INTERVAL', 10_000, { min: 100 }, say),
    metricExportTimeoutMillis: readInteger(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 10_000, { min: 100 }, say),
    resourceDetectors: subsetOf(
      env,
      'OTEL_NODE_RESOURCE_DETECTORS',
      RESOURCE_DETECTOR_NAMES,
      ['env', 'host', 'process', 'serviceinstance'],
      say,
      {
        all: [...RESOURCE_DETECTOR_NAMES],
        none: [],
      },
    ),
    instrumentations: INSTRUMENTATION_NAMES.filter((name) => !disabledInstrumentations.includes(name)),
    serviceName: readString(env, 'OTEL_SERVICE_NAME'),
    resourceAttributes: parseResourceAttributes(readString(env, 'OTEL_RESOURCE_ATTRIBUTES'), say),
    stage: readString(env, 'OBSERVATORY_STAGE') ?? 'local',
    serviceNamespace: readString(env, 'OBSERVATORY_SERVICE_NAMESPACE') ?? 'observatory',
    serviceVersion: readString(env, 'OBSERVATORY_SERVICE_VERSION'),
    commit: readString(env, 'OBSERVATORY_COMMIT'),
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
