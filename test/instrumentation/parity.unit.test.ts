/**
 * The preload composes the SDK's providers itself instead of loading `@opentelemetry/sdk-node` (sdk.ts says why).
 * This proves the composition equal to `NodeSDK.start()`'s: each case of a matrix of standard variables runs the
 * same app (fixtures/parity-app.mts) once under the NodeSDK and once under the preload, each in its own process and
 * against its own OTLP receiver, and compares what comes out: the resource, the sampling decisions for the same
 * trace IDs, the headers the propagators inject, the endpoint path and content type chosen per signal, and the
 * exported spans, log records and metric names with their attributes. Values that legitimately differ between two
 * processes (service.instance.id, process.pid, the command line, timestamps, IDs, the listening port) are left out.
 *
 * Where the preload deliberately differs from the NodeSDK, the base environment sets the standard variable so that
 * both agree; DELIBERATE_DIFFERENCES lists each one with its reason (docs/instrumentation.md, "Parity with the
 * NodeSDK", says the same).
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { spawnNode } from '../support/spawn.ts';
import { startGrpcReceiver, startReceiver, type ReceivedRequest } from '../support/otlp-receiver.ts';

/** Each deliberate difference: the standard variable that makes both agree here, and why we differ by default. */
export const DELIBERATE_DIFFERENCES = [
  {
    variable: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    reason:
      'our default is the local Collector (its ports from stack/config.ts), the exporters default to localhost:4318',
  },
  {
    variable: 'OTEL_BSP_SCHEDULE_DELAY, OTEL_BLRP_SCHEDULE_DELAY',
    reason: "1000 ms rather than the SDK's 5000: a quiet service's spans and logs leave within a second",
  },
  {
    variable: 'OTEL_METRIC_EXPORT_INTERVAL',
    reason: "10000 ms rather than the SDK's 60000: a dashboard sees a new service within seconds",
  },
  {
    variable: 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
    reason:
      "4096 characters rather than the SDK's unlimited: stack traces and payloads are cut before they queue",
  },
  {
    variable: 'OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES',
    reason:
      "our base resource adds service.namespace, deployment.environment.name and the app's package.json name and " +
      'version under the detected attributes (a detected one always wins); without the env detector they stay',
  },
  {
    variable: 'OBSERVATORY_BAGGAGE_SPAN_ATTRIBUTES',
    reason:
      'allow-listed baggage entries (user.id, session.id) are copied onto spans; the app here uses others',
  },
  {
    variable: 'OBSERVATORY_TRACERESPONSE',
    reason:
      "the traceresponse header is added by our http instrumentation's hook; both runs here get our instrumentations",
  },
  {
    variable: 'OTEL_PROPAGATORS',
    reason:
      'tracecontext is our Level 2 propagator: an invalid tracestate is dropped whole and the random flag kept; ' +
      'the headers here are valid Level 1, on which both agree',
  },
  {
    variable: 'OTEL_NODE_RESOURCE_DETECTORS',
    reason:
      "the preload reads it as auto-instrumentations-node's register does, so it knows the cloud detectors too " +
      '(aws, gcp, azure, alibaba, container, and all of them under `all`); the matrix names the common ones',
  },
  {
    variable: 'OTEL_TRACES_SAMPLER, OTEL_PROPAGATORS',
    reason:
      'their values are read case-insensitively, as the specification asks of enum values; the NodeSDK takes ' +
      '`ALWAYS_OFF` for an unknown sampler. The matrix uses lower case',
  },
  {
    variable: 'OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER',
    reason:
      '`zipkin` and `prometheus` are not supported (a warning, then ignored): telemetry goes through the Collector, ' +
      'which feeds Jaeger and Prometheus. The matrix uses otlp and none',
  },
  {
    variable: 'OTEL_{TRACES,METRICS,LOGS}_EXPORTER',
    reason:
      '`none` anywhere in the list turns the signal off, for every signal alike; the NodeSDK does so for metrics and ' +
      'logs, but for traces only when `none` comes first (after another name it exports over OTLP)',
  },
  {
    variable: 'OTEL_TRACES_EXPORTER',
    reason:
      'with `none` the NodeSDK registers no tracer provider (no trace IDs at all); the preload keeps one without an ' +
      'exporter, so that log lines and the traceresponse header still carry a trace ID',
  },
] as const;

const APP = fileURLToPath(new URL('./fixtures/parity-app.mts', import.meta.url));

/** Each case's variables over BASE; the values are standard ones, the same for both runs. */
const BASE: Record<string, string> = {
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_SERVICE_NAME: 'parity',
  OTEL_RESOURCE_ATTRIBUTES:
    'service.namespace=parity-ns,deployment.environment.name=parity-env,service.version=9.9.9',
  // Longer than a run: each signal leaves in one batch, at shutdown, so both runs make the same requests.
  OTEL_BSP_SCHEDULE_DELAY: '60000',
  OTEL_BLRP_SCHEDULE_DELAY: '60000',
  OTEL_METRIC_EXPORT_INTERVAL: '60000',
  OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '4096',
  OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http',
  OTEL_LOG_LEVEL: 'error',
};

const CASES: Record<string, Record<string, string>> = {
  'the standard defaults': {},
  'a service name and percent-encoded resource attributes': {
    OTEL_SERVICE_NAME: 'billing',
    OTEL_RESOURCE_ATTRIBUTES:
      'service.name=shadowed,team=data%20eng,service.namespace=ns,deployment.environment.name=prod,service.version=1.0.0',
  },
  'the named resource detectors': { OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process,serviceinstance' },
  'the env detector alone': { OTEL_NODE_RESOURCE_DETECTORS: 'env' },
  'detector names with spaces, in another order': { OTEL_NODE_RESOURCE_DETECTORS: ' process, env ,host' },
  always_off: { OTEL_TRACES_SAMPLER: 'always_off' },
  always_on: { OTEL_TRACES_SAMPLER: 'always_on' },
  parentbased_always_off: { OTEL_TRACES_SAMPLER: 'parentbased_always_off' },
  'traceidratio 0.5': { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' },
  'parentbased_traceidratio 0.25': {
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.25',
  },
  'a sampler argument out of range': { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' },
  'an unknown sampler': { OTEL_TRACES_SAMPLER: 'sometimes' },
  'the b3 propagator': { OTEL_PROPAGATORS: 'b3' },
  'b3multi, tracecontext and baggage': { OTEL_PROPAGATORS: 'b3multi,tracecontext,baggage' },
  'no propagator': { OTEL_PROPAGATORS: 'none' },
  'an unknown propagator beside baggage': { OTEL_PROPAGATORS: 'bogus,baggage' },
  'an endpoint per signal': {
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '{url}/custom/traces',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: '{url}/custom/metrics',
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: '{url}/custom/logs',
  },
  'http/protobuf': { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' },
  'a protocol per signal': {
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf',
  },
  grpc: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
  'span limits': {
    OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '3',
    OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '100',
    OTEL_SPAN_EVENT_COUNT_LIMIT: '1',
    OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: '0',
  },
  'log record limits': {
    OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: '2',
    OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: '10',
  },
  'the general attribute limits': {
    OTEL_ATTRIBUTE_COUNT_LIMIT: '2',
    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '50',
  },
  'a zero log record value limit (invalid: the general one applies)': {
    OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: '0',
    // 16: url.full keeps `http://127.0.0.1`, without the per-process port.
    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '16',
  },
  'zero batch export timeouts (invalid: the defaults apply)': {
    OTEL_BSP_EXPORT_TIMEOUT: '0',
    OTEL_BLRP_EXPORT_TIMEOUT: '0',
  },
  'no metrics and no logs exporter': { OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
  OTEL_SDK_DISABLED: { OTEL_SDK_DISABLED: 'true' },
};

/** Resource attributes that differ between any two processes, or by the mode argument the test passes. */
const PER_PROCESS = new Set([
  'service.instance.id',
  'process.pid',
  'process.command_args',
  'process.command_line',
]);

/** Span attributes whose value is a connection's ephemeral port: their presence is compared, not their value. */
const EPHEMERAL = new Set(['network.peer.port', 'client.port']);

describe('The preload composes the providers as NodeSDK.start() does', () => {
  for (const [name, variables] of Object.entries(CASES)) {
    it(
      `gives the NodeSDK's resource, sampling, headers and payloads with ${name}`,
      { timeout: 90_000 },
      async () => {
        const [upstream, ours] = await Promise.all([run('node-sdk', variables), run('preload', variables)]);
        expect(ours.observed).toEqual(upstream.observed);
        expect(ours.requests).toEqual(upstream.requests);
        expect(ours.payloads).toEqual(upstream.payloads);
      },
    );
  }

  it('adds only our documented resource defaults when no detector runs', { timeout: 90_000 }, async () => {
    const variables = { OTEL_NODE_RESOURCE_DETECTORS: 'none' };
    const [upstream, ours] = await Promise.all([run('node-sdk', variables), run('preload', variables)]);
    const resourceOf = (payloads: Json[]) =>
      payloads.find((p) => p.signal === 'span')?.resource as Record<string, string> | undefined;
    // The app's package.json (fixtures/package.json) names it; stage and namespace are config.ts's defaults.
    const ourDefaults = {
      'service.name': '{"stringValue":"fixture-app"}',
      'service.version': '{"stringValue":"1.2.3"}',
      'service.namespace': '{"stringValue":"observatory"}',
      'deployment.environment.name': '{"stringValue":"local"}',
    };
    expect(resourceOf(ours.payloads)).toEqual({ ...resourceOf(upstream.payloads), ...ourDefaults });
    const withoutResource = (payloads: Json[]) => payloads.map(({ resource: _, ...rest }) => rest);
    expect(withoutResource(ours.payloads)).toEqual(withoutResource(upstream.payloads));
    expect(ours.observed).toEqual(upstream.observed);
  });
});

async function run(mode: 'node-sdk' | 'preload', variables: Record<string, string>) {
  const grpc = variables.OTEL_EXPORTER_OTLP_PROTOCOL === 'grpc';
  const http = await startReceiver();
  const h2 = grpc ? await startGrpcReceiver() : undefined;
  try {
    const url = h2?.url ?? http.url;
    const env = Object.fromEntries(
      Object.entries({ ...BASE, OTEL_EXPORTER_OTLP_ENDPOINT: url, ...variables }).map(([k, v]) => [
        k,
        v.replace('{url}', url),
      ]),
    );
    const app = spawnNode([APP, mode], { ...unsetInherited(), ...env });
    const [, json] = await app.waitForLine(/^PARITY (.*)$/, 60_000);
    const exit = await app.exited;
    expect(exit.code, `${mode} exit, stderr: ${app.stderr.join('')}`).toBe(0);
    const observed = JSON.parse(json!) as { port: number; [key: string]: unknown };
    const port = String(observed.port);
    delete (observed as { port?: number }).port;
    return {
      observed,
      requests: h2 ? h2.calls : http.requests.map(describeRequest).sort(byJson),
      payloads: normalise(http.requests, port),
    };
  } finally {
    await http.close();
    await h2?.close();
  }
}

/** The variables of the test's own environment that would reach both runs: set empty, which both read as unset. */
function unsetInherited(): Record<string, string> {
  return Object.fromEntries(
    Object.keys(process.env)
      .filter((key) => key.startsWith('OTEL_') || key.startsWith('OBSERVATORY_'))
      .map((key) => [key, '']),
  );
}

function describeRequest(request: ReceivedRequest) {
  return {
    path: request.path,
    contentType: request.headers['content-type'],
    encoding: request.headers['content-encoding'],
  };
}

type Json = Record<string, unknown>;
type Attribute = { key: string; value: Json };

/** The exported JSON payloads with per-process values left out, in a stable order. */
function normalise(requests: ReceivedRequest[], port: string) {
  const values = (attributes: Attribute[] | undefined, skip = new Set<string>()) =>
    Object.fromEntries(
      (attributes ?? [])
        .filter((a) => !skip.has(a.key))
        .map((a) => [
          a.key,
          EPHEMERAL.has(a.key) ? '{ephemeral}' : JSON.stringify(a.value).replaceAll(port, '{port}'),
        ])
        .sort(([a], [b]) => a!.localeCompare(b!)),
    );
  const out: Json[] = [];
  for (const request of requests) {
    const body = request.json as Json | undefined;
    for (const rs of (body?.resourceSpans ?? []) as Json[])
      for (const ss of rs.scopeSpans as Json[])
        for (const span of ss.spans as Json[])
          out.push({
            signal: 'span',
            resource: values((rs.resource as Json).attributes as Attribute[], PER_PROCESS),
            scope: (ss.scope as Json).name,
            name: span.name,
            kind: span.kind,
            parent: Boolean(span.parentSpanId),
            attributes: values(span.attributes as Attribute[]),
            droppedAttributes: span.droppedAttributesCount ?? 0,
            events: ((span.events ?? []) as Json[]).map((e) => ({
              name: e.name,
              attributes: values(e.attributes as Attribute[]),
              dropped: e.droppedAttributesCount ?? 0,
            })),
            droppedEvents: span.droppedEventsCount ?? 0,
            status: span.status,
          });
    for (const rl of (body?.resourceLogs ?? []) as Json[])
      for (const sl of rl.scopeLogs as Json[])
        for (const record of sl.logRecords as Json[])
          out.push({
            signal: 'log',
            resource: values((rl.resource as Json).attributes as Attribute[], PER_PROCESS),
            scope: (sl.scope as Json).name,
            body: record.body,
            severity: [record.severityNumber, record.severityText],
            attributes: values(record.attributes as Attribute[]),
            droppedAttributes: record.droppedAttributesCount ?? 0,
            traced: Boolean(record.traceId),
          });
    for (const rm of (body?.resourceMetrics ?? []) as Json[])
      for (const sm of rm.scopeMetrics as Json[])
        for (const metric of sm.metrics as Json[])
          out.push({
            signal: 'metric',
            resource: values((rm.resource as Json).attributes as Attribute[], PER_PROCESS),
            scope: (sm.scope as Json).name,
            name: metric.name,
            unit: metric.unit,
            type: Object.keys(metric).find((k) =>
              ['sum', 'gauge', 'histogram', 'exponentialHistogram'].includes(k),
            ),
          });
  }
  return out.sort(byJson);
}

function byJson(a: unknown, b: unknown): number {
  return JSON.stringify(a).localeCompare(JSON.stringify(b));
}
