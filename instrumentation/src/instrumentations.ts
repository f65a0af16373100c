/**
 * The curated instrumentation set, on top of `getNodeAutoInstrumentations`: every library instrumentation the
 * upstream package ships is on (a team using pg, redis, kafkajs, mongodb or grpc gets those spans without touching
 * our code), except the few below that cost more than they tell. `OTEL_NODE_DISABLED_INSTRUMENTATIONS` turns more
 * off; `OTEL_NODE_ENABLED_INSTRUMENTATIONS`, when set, is the whole list and our curated "off" steps aside.
 * docs/instrumentation.md lists the set; a unit test keeps the two in step.
 */
import { ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';
import {
  getNodeAutoInstrumentations,
  type InstrumentationConfigMap,
} from '@opentelemetry/auto-instrumentations-node';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { InstrumentationConfig } from './config.ts';
import { formatTraceResponse } from './traceresponse.ts';

/** Off unless `OTEL_NODE_ENABLED_INSTRUMENTATIONS` names them; the reason is in docs/instrumentation.md. */
export const CURATED_OFF = [
  'fs', // a span per file operation: noise and a large overhead
  'dns', // a span per lookup under every outgoing request
  'net', // duplicates the http and undici spans at the socket level
  'router', // per-layer spans, like Express' layers
  'connect', // per-layer spans of connect middleware
  'host-metrics', // host-level metrics belong to the Collector's hostmetrics receiver
  'aws-lambda', // our ETL sandboxes open their own FaaS invocation spans
  'cucumber', // a test framework
] as const;

/** Query parameters whose values are replaced in `url.query` (also redacted in the Collector). */
const REDACTED_QUERY_PARAMS = [
  'token',
  'access_token',
  'api_key',
  'apikey',
  'password',
  'secret',
  'signature',
  'email',
];

export function instrumentations(config: InstrumentationConfig): Instrumentation[] {
  const curated: InstrumentationConfigMap = {
    '@opentelemetry/instrumentation-http': {
      redactedQueryParamsServer: REDACTED_QUERY_PARAMS,
      responseHook: config.traceResponse ? addTraceResponse : undefined,
    },
    // Per-layer spans (middleware, router, handler) cost most of Express' overhead and say little;
    // http.route is still set on the server span.
    '@opentelemetry/instrumentation-express': {
      ignoreLayersType: ['middleware', 'router', 'request_handler'] as never,
    },
    '@opentelemetry/instrumentation-aws-sdk': { suppressInternalInstrumentation: true },
    '@opentelemetry/instrumentation-runtime-node': { monitoringPrecision: 5000 },
  };
  if (!config.instrumentationsFromEnv) {
    for (const name of CURATED_OFF) {
      const key = `@opentelemetry/instrumentation-${name}` as keyof InstrumentationConfigMap;
      curated[key] = { ...curated[key], enabled: false } as never;
    }
  }
  return getNodeAutoInstrumentations(curated);
}

/** Server spans only: the header must be set before the response is sent, and the hook runs at request start. */
function addTraceResponse(span: Pick<Span, 'spanContext'>, response: unknown): void {
  if (!(response instanceof ServerResponse) || response.headersSent) return;
  response.setHeader('traceresponse', formatTraceResponse(span.spanContext()));
}
