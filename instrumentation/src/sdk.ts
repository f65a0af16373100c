/**
 * Starts the one OpenTelemetry setup every service and worker loads: traces, metrics and logs over OTLP/HTTP to the
 * Collector, with the same resource on all three, W3C propagation, and the auto-instrumentations our services use.
 * Telemetry never takes the app down: a start failure logs one line and leaves the app uninstrumented.
 */
import { withTimeout } from '../../common/async.ts';
import { ServerResponse } from 'node:http';
import {
  context,
  diag,
  DiagConsoleLogger,
  logs,
  metrics,
  propagation,
  trace,
  type Context,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPLogExporter as OTLPJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter as OTLPJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import type { Resource } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type LogRecordProcessor,
  type ReadWriteLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type ReadableSpan,
  type Sampler,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { BaggageSpanProcessor } from './baggage-span-processor.ts';
import { instrumentationConfig, type InstrumentationConfig, type InstrumentationName } from './config.ts';
import { DeliveryCounter, type Signal } from './delivery-counter.ts';
import { buildResource, serviceAttributes } from './resource.ts';
import { formatTraceResponse } from './traceresponse.ts';
import { W3CTraceContextLevel2Propagator } from './w3c-propagator.ts';

export interface FlushResult {
  /** False when the bound ran out before every signal was flushed. */
  completed: boolean;
  /** Delivery counts per signal after the flush; `dropped` = offered − delivered. */
  deliveries: ReturnType<DeliveryCounter['snapshot']>;
}

export interface Telemetry {
  readonly config: InstrumentationConfig;
  readonly resource: Resource;
  /** service.name, service.version, service.namespace, deployment.environment.name (and the commit, if given). */
  readonly service: Record<string, string>;
  readonly tracerProvider: TracerProvider;
  readonly meterProvider: MeterProvider;
  readonly loggerProvider: LoggerProvider;
  flush(timeoutMillis?: number): Promise<FlushResult>;
  shutdown(timeoutMillis?: number): Promise<FlushResult>;
  deliveries(): FlushResult['deliveries'];
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** Unit tests pass in-memory exporters; services always use OTLP. */
  exporters?: { spans?: SpanExporter; logs?: LogRecordExporter; metrics?: PushMetricExporter };
  /** Install SIGTERM/SIGINT handlers that flush before the process exits. @default true */
  handleSignals?: boolean;
}

const GLOBAL_KEY = Symbol.for('observatory.telemetry');
type GlobalWithTelemetry = typeof globalThis & { [GLOBAL_KEY]?: Telemetry | null };

/** The running telemetry, or undefined when it was not started (or is disabled). */
export function currentTelemetry(): Telemetry | undefined {
  return (globalThis as GlobalWithTelemetry)[GLOBAL_KEY] ?? undefined;
}

/** Starts telemetry once per process; later calls return the first result. Never throws. */
export function start(options: StartOptions = {}): Telemetry | undefined {
  const holder = globalThis as GlobalWithTelemetry;
  if (holder[GLOBAL_KEY] !== undefined) return holder[GLOBAL_KEY] ?? undefined;
  let telemetry: Telemetry | undefined;
  try {
    const config = instrumentationConfig(options.env ?? process.env);
    if (config.disabled) {
      holder[GLOBAL_KEY] = null;
      return undefined;
    }
    telemetry = createTelemetry(config, options);
    holder[GLOBAL_KEY] = telemetry;
    if (options.handleSignals ?? true) installSignalHandlers(telemetry);
    return telemetry;
  } catch (error) {
    holder[GLOBAL_KEY] = null;
    // A failure after the global providers were registered must not leave a half-started SDK exporting behind the
    // app's back: stop what was started and put the no-op API back.
    void telemetry?.shutdown(0);
    for (const api of [trace, metrics, logs, propagation, context]) api.disable();
    process.stderr.write(
      `observatory: instrumentation failed to start (${error instanceof Error ? error.message : String(error)}); the app runs uninstrumented\n`,
    );
    return undefined;
  }
}

function createTelemetry(config: InstrumentationConfig, options: StartOptions): Telemetry {
  diag.setLogger(new DiagConsoleLogger(), { logLevel: config.logLevel, suppressOverrideMessage: true });
  const env = options.env ?? process.env;
  const resource = buildResource(config);
  const counter = new DeliveryCounter();

  const spanExporter = counting('spans', options.exporters?.spans ?? otlpSpanExporter(config, env), counter);
  const tracerProvider = new TracerProvider({
    resource,
    sampler: sampler(config),
    spanLimits: { attributeValueLengthLimit: config.attributeValueLengthLimit },
    spanProcessors: [
      new BaggageSpanProcessor(config.baggageSpanAttributes),
      new OfferCountingSpanProcessor(counter),
      new BatchSpanProcessor({ exporter: spanExporter, ...config.spans }),
    ],
  });

  const metricExporter = counting(
    'metrics',
    options.exporters?.metrics ?? otlpMetricExporter(config, env),
    counter,
  );
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: metricExporter,
        exportIntervalMillis: config.metricExportIntervalMillis,
        exportTimeoutMillis: Math.min(config.metricExportTimeoutMillis, config.metricExportIntervalMillis),
      }),
    ],
  });

  const logExporter = counting('logs', options.exporters?.logs ?? otlpLogExporter(config, env), counter);
  const loggerProvider = new LoggerProvider({
    resource,
    logRecordLimits: { attributeValueLengthLimit: config.attributeValueLengthLimit },
    processors: [
      new OfferCountingLogProcessor(counter),
      new BatchLogRecordProcessor({ exporter: logExporter, ...config.logs }),
    ],
  });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(propagator(config));
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  logs.setGlobalLoggerProvider(loggerProvider);
  registerInstrumentations({ instrumentations: instrumentations(config) });

  const flushAll = async (timeoutMillis: number, final: boolean): Promise<FlushResult> => {
    const work = final
      ? Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()])
      : Promise.allSettled([
          tracerProvider.forceFlush(),
          meterProvider.forceFlush({ timeoutMillis }),
          loggerProvider.forceFlush(),
        ]);
    const completed = await withTimeout(
      work.then(() => true),
      timeoutMillis,
      false,
    );
    return { completed, deliveries: counter.snapshot() };
  };
  let shutdownResult: Promise<FlushResult> | undefined;
  return {
    config,
    resource,
    service: serviceAttributes(config),
    tracerProvider,
    meterProvider,
    loggerProvider,
    flush: (timeoutMillis = config.shutdownTimeoutMillis) => flushAll(timeoutMillis, false),
    shutdown: (timeoutMillis = config.shutdownTimeoutMillis) =>
      (shutdownResult ??= flushAll(timeoutMillis, true)),
    deliveries: () => counter.snapshot(),
  };
}

function instrumentations(config: InstrumentationConfig): Instrumentation[] {
  const all: Record<InstrumentationName, () => Instrumentation> = {
    http: () =>
      new HttpInstrumentation({
        // The query string reaches the span as url.query: strip secrets here too, not only in the Collector.
        redactedQueryParamsServer: [
          'token',
          'access_token',
          'api_key',
          'apikey',
          'password',
          'secret',
          'signature',
          'email',
        ],
        responseHook: config.traceResponse ? addTraceResponse : undefined,
      }),
    // Per-layer spans (middleware, router, handler) cost most of Express' overhead and say little;
    // http.route is still set on the server span.
    express: () =>
      new ExpressInstrumentation({ ignoreLayersType: ['middleware', 'router', 'request_handler'] as never }),
    undici: () => new UndiciInstrumentation(),
    'aws-sdk': () => new AwsInstrumentation({ suppressInternalInstrumentation: true }),
    pino: () => new PinoInstrumentation(),
    'runtime-node': () => new RuntimeNodeInstrumentation({ monitoringPrecision: 5000 }),
  };
  return config.instrumentations.map((name) => all[name]());
}

/** Server spans only: the header must be set before the response is sent, and the hook runs at request start. */
function addTraceResponse(
  span: Span | { spanContext(): ReturnType<Span['spanContext']> },
  response: unknown,
): void {
  if (!(response instanceof ServerResponse) || response.headersSent) return;
  response.setHeader('traceresponse', formatTraceResponse(span.spanContext()));
}

function sampler(config: InstrumentationConfig): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(config.samplerArg);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

function propagator(config: InstrumentationConfig): TextMapPropagator {
  const chosen: TextMapPropagator[] = [];
  if (config.propagators.includes('tracecontext')) chosen.push(new W3CTraceContextLevel2Propagator());
  if (config.propagators.includes('baggage')) chosen.push(new W3CBaggagePropagator());
  return new CompositePropagator({ propagators: chosen });
}

type Env = Record<string, string | undefined>;

/** The per-signal URL when no OTLP endpoint variable is set: the local Collector on loopback, not `localhost`. */
function defaultUrl(
  config: InstrumentationConfig,
  env: Env,
  signal: 'TRACES' | 'METRICS' | 'LOGS',
): string | undefined {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  if (set('OTEL_EXPORTER_OTLP_ENDPOINT') || set(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`)) return undefined;
  return `${config.defaultEndpoint}/v1/${signal.toLowerCase()}`;
}

function otlpSpanExporter(config: InstrumentationConfig, env: Env): SpanExporter {
  const url = defaultUrl(config, env, 'TRACES');
  return config.protocol === 'http/json'
    ? new OTLPJsonTraceExporter({ url })
    : new OTLPTraceExporter({ url });
}

function otlpMetricExporter(config: InstrumentationConfig, env: Env): PushMetricExporter {
  const url = defaultUrl(config, env, 'METRICS');
  return config.protocol === 'http/json'
    ? new OTLPJsonMetricExporter({ url })
    : new OTLPMetricExporter({ url });
}

function otlpLogExporter(config: InstrumentationConfig, env: Env): LogRecordExporter {
  const url = defaultUrl(config, env, 'LOGS');
  return config.protocol === 'http/json' ? new OTLPJsonLogExporter({ url }) : new OTLPLogExporter({ url });
}

/** The same exporter, with every export's outcome counted. */
function counting<T extends { export(items: never, done: never): void }>(
  signal: Signal,
  inner: T,
  counter: DeliveryCounter,
): T {
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'export') {
        return (items: unknown, done: (result: ExportResult) => void) => {
          const count = signal === 'metrics' ? 1 : (items as unknown[]).length;
          if (signal === 'metrics') counter.offered('metrics');
          (target.export as (items: unknown, done: unknown) => void).call(
            target,
            items,
            counter.track(signal, count, done),
          );
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

class OfferCountingSpanProcessor implements SpanProcessor {
  private readonly counter: DeliveryCounter;
  constructor(counter: DeliveryCounter) {
    this.counter = counter;
  }
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    // The batch processor exports sampled spans only.
    if ((span.spanContext().traceFlags & 1) === 1) this.counter.offered('spans');
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

class OfferCountingLogProcessor implements LogRecordProcessor {
  private readonly counter: DeliveryCounter;
  constructor(counter: DeliveryCounter) {
    this.counter = counter;
  }
  onEmit(_record: ReadWriteLogRecord, _context?: Context): void {
    this.counter.offered('logs');
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * SIGTERM and SIGINT flush and shut down within the bound, then the process exits as it would have: when the app
 * has a handler of its own it decides; otherwise the signal is raised again with the default action.
 */
function installSignalHandlers(telemetry: Telemetry): void {
  const onSignal = (signal: NodeJS.Signals) => {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    void telemetry.shutdown().finally(() => {
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
