/** Unit tests of the instrumentation's configuration and resource: no network, no SDK started. */
import { DiagLogLevel } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { instrumentationConfig } from '../../instrumentation/src/config.ts';
import { buildResource, serviceAttributes } from '../../instrumentation/src/resource.ts';

describe('instrumentationConfig', () => {
  it('protects users by default: warn-level diagnostics, parent-based sampling, a 4096-character value limit', () => {
    const config = instrumentationConfig({}, () => {});
    expect(config.logLevel).toBe(DiagLogLevel.WARN);
    expect(config.sampler).toBe('parentbased_always_on');
    expect(config.attributeValueLengthLimit).toBe(4096);
    expect(config.protocol).toBe('http/protobuf');
    expect(config.spans).toEqual({
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
      scheduledDelayMillis: 5000,
      exportTimeoutMillis: 30000,
    });
    expect(config.instrumentations).toEqual(['http', 'express', 'undici', 'aws-sdk', 'pino', 'runtime-node']);
    expect(config.shutdownTimeoutMillis).toBe(5000);
  });

  it('reads the standard variables', () => {
    const config = instrumentationConfig(
      {
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
        OTEL_BSP_MAX_QUEUE_SIZE: '100',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10',
        OTEL_BLRP_SCHEDULE_DELAY: '250',
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '256',
        OTEL_LOG_LEVEL: 'debug',
        OTEL_PROPAGATORS: 'tracecontext',
        OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'undici, runtime-node',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_METRIC_EXPORT_INTERVAL: '2000',
      },
      () => {},
    );
    expect(config.sampler).toBe('parentbased_traceidratio');
    expect(config.samplerArg).toBe(0.1);
    expect(config.spans.maxQueueSize).toBe(100);
    expect(config.spans.maxExportBatchSize).toBe(10);
    expect(config.logs.scheduledDelayMillis).toBe(250);
    expect(config.attributeValueLengthLimit).toBe(256);
    expect(config.logLevel).toBe(DiagLogLevel.DEBUG);
    expect(config.propagators).toEqual(['tracecontext']);
    expect(config.instrumentations).toEqual(['http', 'express', 'aws-sdk', 'pino']);
    expect(config.protocol).toBe('http/json');
    expect(config.metricExportIntervalMillis).toBe(2000);
  });

  it('treats an empty value as unset', () => {
    const warnings: string[] = [];
    const config = instrumentationConfig({ OTEL_BSP_MAX_QUEUE_SIZE: '', OTEL_TRACES_SAMPLER: ' ' }, (m) =>
      warnings.push(m),
    );
    expect(config.spans.maxQueueSize).toBe(2048);
    expect(config.sampler).toBe('parentbased_always_on');
    expect(warnings).toEqual([]);
  });

  it('falls back on an invalid value with a warning naming the variable, the value and the fallback', () => {
    const warnings: string[] = [];
    const config = instrumentationConfig(
      {
        OTEL_BSP_MAX_QUEUE_SIZE: 'lots',
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: '2',
        OTEL_SDK_DISABLED: 'maybe',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'fs',
      },
      (message) => warnings.push(message),
    );
    expect(config.spans.maxQueueSize).toBe(2048);
    expect(config.sampler).toBe('parentbased_always_on');
    expect(config.samplerArg).toBe(1);
    expect(config.disabled).toBe(false);
    expect(config.protocol).toBe('http/protobuf');
    expect(warnings).toEqual([
      'OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is not supported here (http/protobuf, http/json); using http/protobuf',
      'OTEL_NODE_DISABLED_INSTRUMENTATIONS names unknown entry "fs" (known: http, express, undici, aws-sdk, pino, runtime-node); ignoring it',
      'OTEL_SDK_DISABLED="maybe" is not true or false; using false',
      'OTEL_TRACES_SAMPLER="sometimes" is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio; using parentbased_always_on',
      'OTEL_TRACES_SAMPLER_ARG="2" is not a number in [0, 1]; using 1',
      'OTEL_BSP_MAX_QUEUE_SIZE="lots" is not an integer in [1, 9007199254740991]; using 2048',
    ]);
  });
});

describe('buildResource', () => {
  it('puts the service information from the environment on the resource', async () => {
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
    const resource = buildResource(config, import.meta.filename);
    await resource.waitForAsyncAttributes?.();
    expect(resource.attributes).toMatchObject({
      'service.name': 'catalog',
      'service.version': '4.5.6',
      'service.namespace': 'sat',
      'deployment.environment.name': 'staging',
      'vcs.ref.head.revision': 'abc123',
      team: 'imagery',
      owner: 'data eng',
      'telemetry.sdk.language': 'nodejs',
      'host.name': expect.any(String),
      'process.pid': process.pid,
      'service.instance.id': expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(serviceAttributes(config, import.meta.filename)).toEqual({
      'service.name': 'catalog',
      'service.version': '4.5.6',
      'service.namespace': 'sat',
      'deployment.environment.name': 'staging',
      'vcs.ref.head.revision': 'abc123',
    });
  });

  it("takes the version from the app's package.json when no variable sets it", () => {
    const config = instrumentationConfig({}, () => {});
    const fixture = new URL('./fixtures/cjs-app.cjs', import.meta.url).pathname;
    expect(serviceAttributes(config, fixture)).toMatchObject({
      'service.name': 'fixture-app',
      'service.version': '1.2.3',
    });
  });
});
