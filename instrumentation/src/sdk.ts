/**
 * Starts the one OpenTelemetry setup every service and worker loads: the SDK's tracer, meter and logger providers
 * with the curated instrumentations, reading the standard OTEL_* variables. Our layers stay thin and on top: the
 * baggage allow-list processor, the `traceresponse` header (in the http instrumentation's hook), counted
 * deliveries, local defaults that any standard variable overrides, a bounded flush and shutdown, and signal
 * handling that lets the app close first. Telemetry never takes the app down: a start failure logs one line and
 * leaves the app uninstrumented.
 *
 * The providers are composed here as `NodeSDK.start()` composes them (same defaults, same variables, same order:
 * detected resource attributes over ours, the standard sampler and limit variables), without importing the NodeSDK:
 * its module loads every exporter flavour, gRPC, Zipkin, Prometheus and the declarative-configuration parser, which
 * cost a process ≈ 40 MiB and a second of start-up whether it uses them or not. Here only what the configuration
 * chooses is loaded.
 */
import { withTimeout } from '../../common/async.ts';
import {
  context,
  diag,
  DiagConsoleLogger,
  logs,
  metrics,
  propagation,
  trace,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { CompositePropagator, getNumberFromEnv, W3CBaggagePropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import {
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  serviceInstanceIdDetector,
  type Resource,
  type ResourceDetector,
} from '@opentelemetry/resources';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanLimits,
} from '@opentelemetry/sdk-trace';
import { BaggageSpanProcessor } from './baggage-span-processor.ts';
import { ObservatoryContextManager } from './context-manager.ts';
import { instrumentationConfig, type InstrumentationConfig } from './config.ts';
import { DeliveryCounter } from './delivery-counter.ts';
import { instrumentations } from './instrumentations.ts';
import { buildPipelines, type ExporterOverrides, type Pipelines } from './pipelines.ts';
import { baseResource, serviceAttributes } from './resource.ts';
import { flushBeforeExit } from './exit-flush.ts';
import { AUTO_INSTRUMENTATIONS_PACKAGE, B3_PROPAGATOR_PACKAGE, loadPackage } from './lazy.ts';
import { installSignalHandlers } from './shutdown-on-signal.ts';
import { W3CTraceContextLevel2Propagator } from './w3c-propagator.ts';

export interface FlushResult {
  /** False when the bound ran out before every signal was flushed. */
  completed: boolean;
  /** Delivery counts per signal after the flush; `dropped` = offered − delivered. */
  deliveries: ReturnType<DeliveryCounter['snapshot']>;
}

export interface Telemetry {
  readonly config: InstrumentationConfig;
  /** service.name, service.version, service.namespace, deployment.environment.name (and the commit, if given). */
  readonly service: Record<string, string>;
  flush(timeoutMillis?: number): Promise<FlushResult>;
  shutdown(timeoutMillis?: number): Promise<FlushResult>;
  deliveries(): FlushResult['deliveries'];
}

export interface StartOptions {
  /** Unit tests pass in-memory exporters in place of the OTLP ones. */
  exporters?: ExporterOverrides;
  /** Install the SIGTERM/SIGINT handling (see shutdown-on-signal.ts). @default true */
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
  const started: { sdk?: Providers } = {};
  try {
    const config = instrumentationConfig(process.env);
    if (config.disabled) {
      holder[GLOBAL_KEY] = null;
      return undefined;
    }
    const { telemetry, flushNow } = createTelemetry(config, options, started);
    holder[GLOBAL_KEY] = telemetry;
    if (options.handleSignals ?? true) installSignalHandlers(() => telemetry.shutdown(), flushNow);
    return telemetry;
  } catch (error) {
    holder[GLOBAL_KEY] = null;
    // A failure after the global providers were registered must not leave a half-started SDK exporting behind the
    // app's back: stop what was started and put the no-op API back.
    void started.sdk?.shutdown().catch(() => {});
    for (const api of [trace, metrics, logs, propagation, context]) api.disable();
    process.stderr.write(
      `observatory: instrumentation failed to start (${error instanceof Error ? error.message : String(error)}); the app runs uninstrumented\n`,
    );
    return undefined;
  }
}

function createTelemetry(
  config: InstrumentationConfig,
  options: StartOptions,
  started: { sdk?: Providers },
): { telemetry: Telemetry; flushNow: () => void } {
  diag.setLogger(new DiagConsoleLogger(), { logLevel: config.logLevel, suppressOverrideMessage: true });
  const counter = new DeliveryCounter();
  const pipelines = buildPipelines(config, counter, options.exporters);
  const sdk = startProviders(config, pipelines);
  started.sdk = sdk;
  const targets = { spans: config.exitTargets.traces, logs: config.exitTargets.logs };
  return {
    telemetry: handle(config, sdk, pipelines, counter),
    flushNow: () => flushBeforeExit(pipelines, targets, counter, config.shutdownTimeoutMillis),
  };
}

interface Providers {
  shutdown(): Promise<void>;
}

/** What `NodeSDK.start()` does, in its order, with our configuration. */
function startProviders(config: InstrumentationConfig, pipelines: Pipelines): Providers {
  const contextManager = new ObservatoryContextManager();
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(propagatorFromEnv());
  // Detected attributes (OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME among them) win over our defaults.
  const resource: Resource = baseResource(config).merge(detectResources({ detectors: resourceDetectors() }));
  // Settled as soon as the detectors answer, not at the first export: the flush of an explicit exit
  // (exit-flush.ts) serializes synchronously and cannot wait for them.
  void resource.waitForAsyncAttributes?.().catch(() => {});
  const providers: { shutdown(): Promise<void> }[] = [];
  const meterProvider =
    pipelines.metricReaders.length > 0
      ? new MeterProvider({ resource, readers: pipelines.metricReaders })
      : undefined;
  if (meterProvider) {
    metrics.setGlobalMeterProvider(meterProvider);
    providers.push(meterProvider);
  }
  const tracerProvider = new TracerProvider({
    resource,
    sampler: sampler(config),
    spanLimits: {
      ...spanLimitsFromEnv(),
      // Our default, only while no standard limit variable is set (config.ts decides).
      ...(config.attributeValueLengthLimit !== undefined
        ? { attributeValueLengthLimit: config.attributeValueLengthLimit }
        : {}),
    },
    spanProcessors: [new BaggageSpanProcessor(config.baggageSpanAttributes), ...pipelines.spanProcessors],
  });
  trace.setGlobalTracerProvider(tracerProvider);
  providers.push(tracerProvider);
  const loggerProvider = new LoggerProvider({
    resource,
    logRecordLimits: {
      attributeCountLimit:
        positive('OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT') ?? positive('OTEL_ATTRIBUTE_COUNT_LIMIT'),
      attributeValueLengthLimit:
        positive('OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT') ??
        positive('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'),
    },
    processors: pipelines.logRecordProcessors,
  });
  logs.setGlobalLoggerProvider(loggerProvider);
  providers.push(loggerProvider);
  // After the providers, so that each instrumentation holds the SDK's tracer and meter, not the API's proxies.
  registerInstrumentations({
    instrumentations: instrumentations(config),
    tracerProvider,
    meterProvider: meterProvider ?? metrics.getMeterProvider(),
    loggerProvider,
  });
  return { shutdown: () => Promise.all(providers.map((p) => p.shutdown())).then(() => {}) };
}

/** The detectors the NodeSDK knows by name (`host` brings `os` as a name of its own). */
const NODE_SDK_DETECTORS: Record<string, ResourceDetector> = {
  host: hostDetector,
  os: osDetector,
  serviceinstance: serviceInstanceIdDetector,
  process: processDetector,
  env: envDetector,
};

/**
 * `OTEL_NODE_RESOURCE_DETECTORS` as the NodeSDK reads it (names trimmed, in the order listed, `none` for none); unset,
 * the NodeSDK's defaults. A cloud detector's name (aws, gcp, azure, alibaba, container) or `all` hands the variable to
 * auto-instrumentations-node, which knows those too, as its `register` does — loaded only then: it imports every
 * library instrumentation.
 */
function resourceDetectors(): ResourceDetector[] {
  const names = process.env.OTEL_NODE_RESOURCE_DETECTORS?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (!names?.length)
    return [serviceInstanceIdDetector, processDetector, hostDetector, osDetector, envDetector];
  if (!names.includes('all')) {
    if (names.includes('none')) return [];
    if (names.every((name) => name in NODE_SDK_DETECTORS))
      return names.map((name) => NODE_SDK_DETECTORS[name]!);
  }
  const upstream = loadPackage<{ getResourceDetectors(): ResourceDetector[] }>(AUTO_INSTRUMENTATIONS_PACKAGE);
  return upstream.getResourceDetectors();
}

/** The standard sampler (`OTEL_TRACES_SAMPLER`, `_ARG`, read by config.ts); unset, the SDK's default. */
function sampler(config: InstrumentationConfig): Sampler | undefined {
  const ratio = config.samplerArg;
  switch (config.sampler) {
    case undefined:
      return undefined;
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      diag.error(
        `unknown OTEL_TRACES_SAMPLER value "${config.sampler}", using the default (parentbased_always_on)`,
      );
      return undefined;
  }
}

/** The span limit variables, as the NodeSDK reads them. */
function spanLimitsFromEnv(): SpanLimits {
  return {
    attributeCountLimit:
      getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT') ?? getNumberFromEnv('OTEL_ATTRIBUTE_COUNT_LIMIT'),
    attributeValueLengthLimit:
      getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT') ??
      getNumberFromEnv('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'),
    eventCountLimit: getNumberFromEnv('OTEL_SPAN_EVENT_COUNT_LIMIT'),
    linkCountLimit: getNumberFromEnv('OTEL_SPAN_LINK_COUNT_LIMIT'),
    attributePerEventCountLimit:
      getNumberFromEnv('OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT') ??
      getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT'),
    attributePerLinkCountLimit:
      getNumberFromEnv('OTEL_LINK_ATTRIBUTE_COUNT_LIMIT') ??
      getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT'),
  };
}

/** As the NodeSDK reads the log record limits: 0 or less is invalid, and the next variable applies. */
function positive(name: string): number | undefined {
  const value = getNumberFromEnv(name);
  if (value !== undefined && value <= 0) {
    diag.warn(`${name} (${value}) is invalid, expected number greater than 0, using default.`);
    return undefined;
  }
  return value;
}

/**
 * `OTEL_PROPAGATORS` (default `tracecontext,baggage`), as the NodeSDK reads it, with W3C Trace Context through our
 * conformant propagator (w3c-propagator.ts: an invalid tracestate dropped whole, the Level 2 random flag kept).
 * `b3` and `b3multi` load the B3 propagator package only when named; `none` alone turns propagation off.
 */
function propagatorFromEnv(): TextMapPropagator {
  const raw = process.env.OTEL_PROPAGATORS?.trim();
  const names = [
    ...new Set(raw ? raw.split(',').map((name) => name.trim().toLowerCase()) : ['tracecontext', 'baggage']),
  ];
  const chosen: TextMapPropagator[] = [];
  if (!names.includes('none')) {
    for (const name of names) {
      if (name === 'tracecontext') chosen.push(new W3CTraceContextLevel2Propagator());
      else if (name === 'baggage') chosen.push(new W3CBaggagePropagator());
      else if (name === 'b3' || name === 'b3multi') {
        const b3 = loadPackage<typeof import('@opentelemetry/propagator-b3')>(B3_PROPAGATOR_PACKAGE);
        chosen.push(
          new b3.B3Propagator(name === 'b3multi' ? { injectEncoding: b3.B3InjectEncoding.MULTI_HEADER } : {}),
        );
      } else diag.warn(`Propagator "${name}" requested through environment variable is unavailable.`);
    }
  }
  return new CompositePropagator({ propagators: chosen });
}

function handle(
  config: InstrumentationConfig,
  sdk: Providers,
  pipelines: Pipelines,
  counter: DeliveryCounter,
): Telemetry {
  const bounded = async (work: Promise<unknown>, timeoutMillis: number): Promise<FlushResult> => {
    const completed = await withTimeout(
      work.then(
        () => true,
        () => false,
      ),
      timeoutMillis,
      false,
    );
    return { completed, deliveries: counter.snapshot() };
  };
  const flushAll = (timeoutMillis: number) =>
    Promise.all([
      ...pipelines.spanProcessors.map((p) => p.forceFlush()),
      ...pipelines.metricReaders.map((r) => r.forceFlush({ timeoutMillis })),
      ...pipelines.logRecordProcessors.map((p) => p.forceFlush()),
    ]);
  let shutdownResult: Promise<FlushResult> | undefined;
  return {
    config,
    service: serviceAttributes(config),
    flush: (timeoutMillis = config.shutdownTimeoutMillis) => bounded(flushAll(timeoutMillis), timeoutMillis),
    shutdown: (timeoutMillis = config.shutdownTimeoutMillis) =>
      (shutdownResult ??= bounded(sdk.shutdown(), timeoutMillis)),
    deliveries: () => counter.snapshot(),
  };
}
