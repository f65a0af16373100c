/**
 * The three export pipelines of the providers sdk.ts composes, built the way the NodeSDK builds them from
 * `OTEL_*_EXPORTER` (otlp over http/protobuf, http/json or grpc; console; none), with two differences: every exporter
 * is wrapped so that each export's outcome is counted (drops are never silent), and the OTLP URL is the local
 * Collector while no endpoint variable is set. Headers, timeouts, compression and certificates are read by the exporters themselves.
 */
import type { Context } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import {
  BatchLogRecordProcessor,
  ConsoleLogRecordExporter,
  SimpleLogRecordProcessor,
  type LogRecordExporter,
  type LogRecordProcessor,
  type ReadWriteLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  ConsoleMetricExporter,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { InstrumentationConfig, OtelSignal } from './config.ts';
import type { DeliveryCounter, ExportKind } from './delivery-counter.ts';
import { loadPackage, otlpExporterPackage, type OtlpFlavour } from './lazy.ts';

/** Unit tests pass in-memory exporters; they replace the configured OTLP exporters (console ones stay). */
export interface ExporterOverrides {
  spans?: SpanExporter;
  logs?: LogRecordExporter;
  metrics?: PushMetricExporter;
}

export interface Pipelines {
  spanProcessors: SpanProcessor[];
  metricReaders: IMetricReader[];
  logRecordProcessors: LogRecordProcessor[];
}

export function buildPipelines(
  config: InstrumentationConfig,
  counter: DeliveryCounter,
  overrides: ExporterOverrides = {},
): Pipelines {
  return {
    spanProcessors: spanProcessors(config, counter, overrides.spans),
    metricReaders: metricReaders(config, counter, overrides.metrics),
    logRecordProcessors: logRecordProcessors(config, counter, overrides.logs),
  };
}

function spanProcessors(
  config: InstrumentationConfig,
  counter: DeliveryCounter,
  override: SpanExporter | undefined,
): SpanProcessor[] {
  const processors: SpanProcessor[] = [new OfferCountingSpanProcessor(counter)];
  for (const name of config.exporters.traces) {
    if (name === 'console') processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
    else {
      const exporter = counting('spans', override ?? otlpSpanExporter(config), counter);
      processors.push(new BatchSpanProcessor({ exporter, ...config.spans }));
    }
  }
  return processors;
}

function metricReaders(
  config: InstrumentationConfig,
  counter: DeliveryCounter,
  override: PushMetricExporter | undefined,
): IMetricReader[] {
  return config.exporters.metrics.map(
    (name) =>
      new PeriodicExportingMetricReader({
        exporter:
          name === 'console'
            ? new ConsoleMetricExporter()
            : counting('metrics', override ?? otlpMetricExporter(config), counter),
        exportIntervalMillis: config.metricExportIntervalMillis,
        exportTimeoutMillis: Math.min(config.metricExportTimeoutMillis, config.metricExportIntervalMillis),
      }),
  );
}

function logRecordProcessors(
  config: InstrumentationConfig,
  counter: DeliveryCounter,
  override: LogRecordExporter | undefined,
): LogRecordProcessor[] {
  const processors: LogRecordProcessor[] = [];
  // The SDK applies a standard limit variable itself; our default applies only while none is set.
  if (config.attributeValueLengthLimit !== undefined)
    processors.push(new TruncatingLogProcessor(config.attributeValueLengthLimit));
  processors.push(new OfferCountingLogProcessor(counter));
  for (const name of config.exporters.logs) {
    if (name === 'console')
      processors.push(new SimpleLogRecordProcessor({ exporter: new ConsoleLogRecordExporter() }));
    else {
      const exporter = counting('logs', override ?? otlpLogExporter(config), counter);
      processors.push(new BatchLogRecordProcessor({ exporter, ...config.logs }));
    }
  }
  return processors;
}

/**
 * The OTLP exporter package for a signal and protocol, loaded only when chosen: the three flavours of three signals
 * are nine packages, and the gRPC ones bring gRPC itself (≈ 10 MiB a process never needs over HTTP).
 */
const FLAVOURS: Record<string, OtlpFlavour> = { grpc: 'grpc', 'http/json': 'http' };

type Constructor<T> = new (config: { url?: string }) => T;

function otlpExporter<T>(config: InstrumentationConfig, signal: OtelSignal, className: string): T {
  const flavour = FLAVOURS[config.protocols[signal]] ?? 'proto';
  const exports = loadPackage<Record<string, Constructor<T>>>(otlpExporterPackage(signal, flavour));
  return new exports[className]!({ url: config.endpoints[signal] });
}

function otlpSpanExporter(config: InstrumentationConfig): SpanExporter {
  return otlpExporter<SpanExporter>(config, 'traces', 'OTLPTraceExporter');
}

function otlpMetricExporter(config: InstrumentationConfig): PushMetricExporter {
  return otlpExporter<PushMetricExporter>(config, 'metrics', 'OTLPMetricExporter');
}

function otlpLogExporter(config: InstrumentationConfig): LogRecordExporter {
  return otlpExporter<LogRecordExporter>(config, 'logs', 'OTLPLogExporter');
}

/** The same exporter, with every export's outcome counted. */
function counting<T extends { export(items: never, done: never): void }>(
  signal: ExportKind,
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
 * Our default attribute value length limit for log records (the SDK's log record limits come from the
 * environment only, as the NodeSDK reads them): long string values — stack traces, payloads — are cut before they are queued.
 */
class TruncatingLogProcessor implements LogRecordProcessor {
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  onEmit(record: ReadWriteLogRecord): void {
    for (const [key, value] of Object.entries(record.attributes)) {
      if (typeof value === 'string' && value.length > this.limit)
        record.setAttribute(key, value.slice(0, this.limit));
    }
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
