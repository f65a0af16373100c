/** Unit tests of the instrumentation's configuration and resource: no network, no SDK started. */
import { DiagLogLevel } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { instrumentationConfig } from '../../instrumentation/src/config.ts';
import { baseResource, serviceAttributes } from '../../instrumentation/src/resource.ts';

describe('instrumentationConfig', () => {
  it('protects users by default: warn-level diagnostics, the local Collector, a 4096-character value limit', () => {
    const config = instrumentationConfig({}, () => {});
    expect(config.logLevel).toBe(DiagLogLevel.WARN);
    expect(config.attributeValueLengthLimit).toBe(4096);
    expect(config.exporters).toEqual({ traces: ['otlp'], metrics: ['otlp'], logs: ['otlp'] });
    expect(config.protocols).toEqual({
      traces: 'http/protobuf',
      metrics: 'http/protobuf',
      logs: 'http/protobuf',
    });
    expect(config.endpoints).toEqual({
      traces: 'http://127.0.0.1:4318/v1/traces',
      metrics: 'http://127.0.0.1:4318/v1/metrics',
      logs: 'http://127.0.0.1:4318/v1/logs',
    });
    expect(config.spans).toEqual({
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
      // Ours, not the SDK's 5000: a quiet service's trace reaches Jaeger within a second (bench/freshness.ts).
      scheduledDelayMillis: 200,
      exportTimeoutMillis: 30000,
    });
    expect(config.metricExportIntervalMillis).toBe(10_000);
    expect(config.instrumentationsFromEnv).toBe(false);
    expect(config.shutdownTimeoutMillis).toBe(5000);
  });

  it('reads the standard variables, and a standard variable always wins over our default', () => {
    const config = instrumentationConfig(
      {
        OTEL_BSP_MAX_QUEUE_SIZE: '100',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10',
        OTEL_BLRP_SCHEDULE_DELAY: '250',
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '256',
        OTEL_LOG_LEVEL: 'debug',
        OTEL_TRACES_EXPORTER: 'console,otlp',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces',
        OTEL_METRIC_EXPORT_INTERVAL: '2000',
        OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,fs',
      },
      () => {},
    );
    expect(config.spans.maxQueueSize).toBe(100);
    expect(config.spans.maxExportBatchSize).toBe(10);
    expect(config.logs.scheduledDelayMillis).toBe(250);
    // The SDK applies the standard limit itself; ours steps aside.
    expect(config.attributeValueLengthLimit).toBeUndefined();
    expect(config.logLevel).toBe(DiagLogLevel.DEBUG);
    expect(config.exporters).toEqual({ traces: ['console', 'otlp'], metrics: [], logs: ['otlp'] });
    expect(config.protocols).toEqual({ traces: 'http/json', metrics: 'http/json', logs: 'grpc' });
    // The per-signal endpoint variable is read by the exporter; the others keep our local default.
    expect(config.endpoints).toEqual({
      traces: undefined,
      metrics: 'http://127.0.0.1:4318/v1/metrics',
      logs: 'http://127.0.0.1:4317',
    });
    expect(config.metricExportIntervalMillis).toBe(2000);
    expect(config.instrumentationsFromEnv).toBe(true);
  });

  it('leaves every endpoint to the exporters when OTEL_EXPORTER_OTLP_ENDPOINT is set', () => {
    const config = instrumentationConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://gateway:4318' }, () => {});
    expect(config.endpoints).toEqual({ traces: undefined, metrics: undefined, logs: undefined });
  });

  it('treats an empty value as unset', () => {
    const warnings: string[] = [];
    const config = instrumentationConfig(
      { OTEL_BSP_MAX_QUEUE_SIZE: '', OTEL_TRACES_EXPORTER: ' ', OTEL_EXPORTER_OTLP_ENDPOINT: '' },
      (m) => warnings.push(m),
    );
    expect(config.spans.maxQueueSize).toBe(2048);
    expect(config.exporters.traces).toEqual(['otlp']);
    expect(config.endpoints.traces).toBe('http://127.0.0.1:4318/v1/traces');
    expect(warnings).toEqual([]);
  });

  it('falls back on an invalid value with a warning naming the variable, the value and the fallback', () => {
    const warnings: string[] = [];
    const config = instrumentationConfig(
      {
        OTEL_BSP_MAX_QUEUE_SIZE: 'lots',
        OTEL_SDK_DISABLED: 'maybe',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon',
        OTEL_LOGS_EXPORTER: 'otlp,kafka',
      },
      (message) => warnings.push(message),
    );
    expect(config.spans.maxQueueSize).toBe(2048);
    expect(config.disabled).toBe(false);
    expect(config.protocols.traces).toBe('http/protobuf');
    expect(config.exporters.logs).toEqual(['otlp']);
    expect(warnings).toEqual([
      'OTEL_SDK_DISABLED="maybe" is not true or false; using false',
      'OTEL_EXPORTER_OTLP_PROTOCOL="carrier-pigeon" is not one of http/protobuf, http/json, grpc; using http/protobuf',
      'OTEL_EXPORTER_OTLP_PROTOCOL="carrier-pigeon" is not one of http/protobuf, http/json, grpc; using http/protobuf',
      'OTEL_EXPORTER_OTLP_PROTOCOL="carrier-pigeon" is not one of http/protobuf, http/json, grpc; using http/protobuf',
      'OTEL_LOGS_EXPORTER names unknown exporter "kafka" (known: otlp, console, none); ignoring it',
      'OTEL_BSP_MAX_QUEUE_SIZE="lots" is not an integer in [1, 9007199254740991]; using 2048',
    ]);
  });
});

describe('The resource defaults', () => {
  it('puts our service information on the base resource, and the log lines see what the env detector adds', () => {
    const config = instrumentationConfig(
      {
        OTEL_SERVICE_NAME: 'catalog',
        OTEL_RESOURCE_ATTRIBUTES: 'team=imagery,service.namespace=sat,owner=data%20eng',
        OBSERVATORY_STAGE: 'staging',
        OBSERVATORY_SERVICE_VERSION: '4.5.6',
        OBSERVATORY_COMMIT: 'abc123',
      },
      () => {},
    );
    expect(baseResource(config, import.meta.filename).attributes).toMatchObject({
      'service.version': '4.5.6',
      'service.namespace': 'observatory',
      'deployment.environment.name': 'staging',
      'vcs.ref.head.revision': 'abc123',
      'telemetry.sdk.language': 'nodejs',
    });
    expect(serviceAttributes(config, import.meta.filename)).toEqual({
      'service.name': 'catalog',
      'service.version': '4.5.6',
      'service.namespace': 'sat',
      'deployment.environment.name': 'staging',
      'vcs.ref.head.revision': 'abc123',
    });
  });

  it("takes the name and version from the app's package.json when no variable sets them", () => {
    const config = instrumentationConfig({}, () => {});
    const fixture = new URL('./fixtures/cjs-app.cjs', import.meta.url).pathname;
    expect(serviceAttributes(config, fixture)).toMatchObject({
      'service.name': 'fixture-app',
      'service.version': '1.2.3',
    });
  });
});
