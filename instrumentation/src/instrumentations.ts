/**
 * The curated instrumentation set, on top of `getNodeAutoInstrumentations`: every library instrumentation the
 * upstream package ships is on for the libraries the app has installed (a team using pg, redis, kafkajs, mongodb or
 * grpc gets those spans without touching our code), except the few below that cost more than they tell.
 * `OTEL_NODE_DISABLED_INSTRUMENTATIONS` turns more off; `OTEL_NODE_ENABLED_INSTRUMENTATIONS`, when set, is the whole
 * list and our curation steps aside. docs/instrumentation.md lists the set; a unit test keeps the two in step.
 */
import { existsSync } from 'node:fs';
import { ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
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

/**
 * The modules each library instrumentation patches, as its `getModuleDefinitions()` names them (auto-instrumentations
 * 0.82.0; a unit test checks this list against the real instrumentations). One whose modules are not installed where
 * the app can load them is not created: every instrumentation hooks every module load, and forty of them doubled the
 * time an app takes to load its modules. Instrumentations of Node's own modules are not listed: always kept.
 */
export const TARGETS: Record<string, readonly string[]> = {
  amqplib: ['amqplib'],
  'aws-sdk': [
    '@aws-sdk/middleware-stack',
    '@smithy/middleware-stack',
    '@smithy/core',
    '@aws-sdk/smithy-client',
    '@smithy/smithy-client',
  ],
  bunyan: ['bunyan'],
  'cassandra-driver': ['cassandra-driver'],
  connect: ['connect'],
  cucumber: ['@cucumber/cucumber'],
  dataloader: ['dataloader'],
  express: ['express'],
  'generic-pool': ['generic-pool'],
  graphql: ['graphql'],
  grpc: ['@grpc/grpc-js'],
  hapi: ['@hapi/hapi'],
  ioredis: ['ioredis'],
  kafkajs: ['kafkajs'],
  knex: ['knex'],
  koa: ['koa'],
  'lru-memoizer': ['lru-memoizer'],
  memcached: ['memcached'],
  mongodb: ['mongodb'],
  mongoose: ['mongoose'],
  mysql2: ['mysql2'],
  mysql: ['mysql'],
  'nestjs-core': ['@nestjs/core'],
  openai: ['openai'],
  oracledb: ['oracledb'],
  pg: ['pg', 'pg-pool'],
  pino: ['pino'],
  redis: ['redis', '@redis/client', '@node-redis/client'],
  restify: ['restify'],
  router: ['router'],
  'socket.io': ['socket.io'],
  tedious: ['tedious'],
  winston: ['winston'],
};

/** Whether `name` is in a node_modules folder above one of `from` (how Node would find it). */
function installed(name: string, from: readonly string[]): boolean {
  for (const start of from) {
    for (let dir = start; ; dir = dirname(dir)) {
      if (existsSync(join(dir, 'node_modules', name, 'package.json'))) return true;
      if (dirname(dir) === dir) break;
    }
  }
  return false;
}

/** Where the app loads its modules from: its entry file's folder, and the working directory. */
function appFolders(): string[] {
  const entry = process.argv[1];
  return [...new Set([...(entry ? [dirname(resolve(entry))] : []), process.cwd()])];
}

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
    const folders = appFolders();
    const absent = Object.entries(TARGETS)
      .filter(([, modules]) => !modules.some((module) => installed(module, folders)))
      .map(([name]) => name);
    for (const name of [...CURATED_OFF, ...absent]) {
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
