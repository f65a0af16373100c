/**
 * Starts the one OpenTelemetry setup every service and worker loads: the NodeSDK with the curated
 * auto-instrumentations, reading the standard OTEL_* variables. Our layers stay thin and on top: the baggage
 * allow-list processor, the `traceresponse` header (in the http instrumentation's hook), counted deliveries, local
 * defaults that any standard variable overrides, a bounded flush and shutdown, and signal handling that lets the app
 * close first. Telemetry never takes the app down: a start failure logs one line and leaves the app uninstrumented.
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
import { CompositePropagator, W3CBaggagePropagator } from '@opentelemetry/core';
import { getResourceDetectors } from '@opentelemetry/auto-instrumentations-node';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { BaggageSpanProcessor } from './baggage-span-processor.ts';
import { instrumentationConfig, type InstrumentationConfig } from './config.ts';
import { DeliveryCounter } from './delivery-counter.ts';
import { instrumentations } from './instrumentations.ts';
import { buildPipelines, type ExporterOverrides, type Pipelines } from './pipelines.ts';
import { baseResource, serviceAttributes } from './resource.ts';
import { installSignalHandlers } from './signals.ts';
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
  /** Install the SIGTERM/SIGINT handling (see signals.ts). @default true */
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
  const started: { sdk?: NodeSDK } = {};
  try {
    const config = instrumentationConfig(process.env);
    if (config.disabled) {
      holder[GLOBAL_KEY] = null;
      return undefined;
    }
    const telemetry = createTelemetry(config, options, started);
    holder[GLOBAL_KEY] = telemetry;
    if (options.handleSignals ?? true) installSignalHandlers(() => telemetry.shutdown());
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
  started: { sdk?: NodeSDK },
): Telemetry {
  diag.setLogger(new DiagConsoleLogger(), { logLevel: config.logLevel, suppressOverrideMessage: true });
  const counter = new DeliveryCounter();
  const pipelines = buildPipelines(config, counter, options.exporters);
  const sdk = new NodeSDK(sdkConfiguration(config, pipelines));
  started.sdk = sdk;
  sdk.start();
  return handle(config, sdk, pipelines, counter);
}

/** What we hand the NodeSDK; everything left out it reads from the standard variables. */
function sdkConfiguration(
  config: InstrumentationConfig,
  pipelines: Pipelines,
): Partial<NodeSDKConfiguration> {
  return {
    resource: baseResource(config),
    // The upstream list knows the cloud detectors too (aws, gcp, azure, container); the NodeSDK's own does not.
    ...(process.env.OTEL_NODE_RESOURCE_DETECTORS?.trim()
      ? { resourceDetectors: getResourceDetectors() }
      : {}),
    spanProcessors: [new BaggageSpanProcessor(config.baggageSpanAttributes), ...pipelines.spanProcessors],
    metricReaders: pipelines.metricReaders,
    logRecordProcessors: pipelines.logRecordProcessors,
    // The SDK merges this over the limits it reads from the environment, so it is passed only when none is set.
    ...(config.attributeValueLengthLimit !== undefined
      ? { spanLimits: { attributeValueLengthLimit: config.attributeValueLengthLimit } }
      : {}),
    instrumentations: instrumentations(config),
    ...w3cPropagator(),
  };
}

/**
 * W3C Trace Context through our conformant propagator (w3c-propagator.ts: an invalid tracestate dropped whole, the
 * Level 2 random flag kept) wherever the propagators are W3C only — the default, or OTEL_PROPAGATORS naming only
 * tracecontext and baggage. Any other list (b3, jaeger, …) is left to the NodeSDK, which builds it from the variable.
 */
function w3cPropagator(): Partial<NodeSDKConfiguration> {
  const raw = process.env.OTEL_PROPAGATORS?.trim();
  const names = raw ? raw.split(',').map((name) => name.trim().toLowerCase()) : ['tracecontext', 'baggage'];
  if (!names.every((name) => name === 'tracecontext' || name === 'baggage' || name === 'none')) return {};
  const chosen: TextMapPropagator[] = [];
  if (names.includes('tracecontext')) chosen.push(new W3CTraceContextLevel2Propagator());
  if (names.includes('baggage')) chosen.push(new W3CBaggagePropagator());
  return { textMapPropagator: new CompositePropagator({ propagators: chosen }) };
}

function handle(
  config: InstrumentationConfig,
  sdk: NodeSDK,
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
