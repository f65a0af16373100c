/**
 * The curated instrumentation set: every library instrumentation that `@opentelemetry/auto-instrumentations-node`
 * ships is on for the libraries the app has installed (a team using pg, redis, kafkajs, mongodb or grpc gets those
 * spans without touching our code), except the few below that cost more than they tell.
 * `OTEL_NODE_DISABLED_INSTRUMENTATIONS` turns more off; `OTEL_NODE_ENABLED_INSTRUMENTATIONS`, when set, is the whole
 * list and our curation steps aside — the same variables, names and precedence as upstream's
 * `getNodeAutoInstrumentations`. docs/instrumentation.md lists the set; a unit test keeps the two in step.
 *
 * Unlike upstream's function, which imports all forty instrumentation packages (and the cloud resource detectors)
 * whether the app uses them or not, each package is loaded only when its instrumentation is created: a process
 * pays in memory and start-up only for the libraries it has.
 */
import { existsSync } from 'node:fs';
import type { ServerResponse as Response } from 'node:http';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { diag, type Span } from '@opentelemetry/api';
import type {
  Instrumentation,
  InstrumentationConfig as UpstreamConfig,
} from '@opentelemetry/instrumentation';
import type { InstrumentationConfig } from './config.ts';
import { supportsSyncHooks } from './esm-hook.ts';
import { DeferredInstrumentation } from './deferred-instrumentation.ts';
import { ExpressErrorsInstrumentation } from './express-errors.ts';
import { LazyFastifyInstrumentation } from './fastify.ts';
import { AUTO_INSTRUMENTATIONS_PACKAGE, instrumentationPackage, loadPackage } from './lazy.ts';
import { formatTraceResponse } from './traceresponse.ts';

/**
 * Every instrumentation of `@opentelemetry/auto-instrumentations-node` 0.82.0, by the short name the variables use
 * (`@opentelemetry/instrumentation-<name>`), with the class its package exports (a unit test checks the list
 * against upstream's own map).
 */
export const UPSTREAM: Record<string, string> = {
  amqplib: 'AmqplibInstrumentation',
  'aws-lambda': 'AwsLambdaInstrumentation',
  'aws-sdk': 'AwsInstrumentation',
  bunyan: 'BunyanInstrumentation',
  'cassandra-driver': 'CassandraDriverInstrumentation',
  connect: 'ConnectInstrumentation',
  cucumber: 'CucumberInstrumentation',
  dataloader: 'DataloaderInstrumentation',
  dns: 'DnsInstrumentation',
  express: 'ExpressInstrumentation',
  fs: 'FsInstrumentation',
  'generic-pool': 'GenericPoolInstrumentation',
  graphql: 'GraphQLInstrumentation',
  grpc: 'GrpcInstrumentation',
  hapi: 'HapiInstrumentation',
  'host-metrics': 'HostMetricsInstrumentation',
  http: 'HttpInstrumentation',
  ioredis: 'IORedisInstrumentation',
  kafkajs: 'KafkaJsInstrumentation',
  knex: 'KnexInstrumentation',
  koa: 'KoaInstrumentation',
  'lru-memoizer': 'LruMemoizerInstrumentation',
  memcached: 'MemcachedInstrumentation',
  mongodb: 'MongoDBInstrumentation',
  mongoose: 'MongooseInstrumentation',
  mysql2: 'MySQL2Instrumentation',
  mysql: 'MySQLInstrumentation',
  'nestjs-core': 'NestInstrumentation',
  net: 'NetInstrumentation',
  openai: 'OpenAIInstrumentation',
  oracledb: 'OracleInstrumentation',
  pg: 'PgInstrumentation',
  pino: 'PinoInstrumentation',
  redis: 'RedisInstrumentation',
  restify: 'RestifyInstrumentation',
  router: 'RouterInstrumentation',
  'runtime-node': 'RuntimeNodeInstrumentation',
  'socket.io': 'SocketIoInstrumentation',
  tedious: 'TediousInstrumentation',
  undici: 'UndiciInstrumentation',
  winston: 'WinstonInstrumentation',
};

/**
 * Instrumentations of ours beside upstream's, by the short name the same variables use: frameworks that
 * auto-instrumentations-node does not cover (Fastify: its maintainers publish `@fastify/otel`), and a failed Express
 * handler's exception, which upstream records only on the per-layer spans we turn off.
 */
export const OURS: Record<string, { modules: readonly string[]; create: () => Instrumentation }> = {
  fastify: { modules: ['fastify'], create: () => new LazyFastifyInstrumentation() },
  'express-errors': { modules: ['express'], create: () => new ExpressErrorsInstrumentation() },
};

/** Off unless `OTEL_NODE_ENABLED_INSTRUMENTATIONS` names them, as upstream. */
const UPSTREAM_EXCLUDED = ['fs', 'host-metrics'];

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

/** The modules an instrumentation patches (undefined for Node's own modules: always kept). */
function targetsOf(name: string): readonly string[] | undefined {
  return TARGETS[name] ?? OURS[name]?.modules;
}

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

/** Our settings for the instrumentations we tune; the others take upstream's defaults. */
function curatedConfigs(
  config: InstrumentationConfig,
): Record<string, UpstreamConfig & Record<string, unknown>> {
  if (config.traceResponse) keepTraceResponse();
  return {
    http: {
      redactedQueryParamsServer: REDACTED_QUERY_PARAMS,
      responseHook: config.traceResponse ? addTraceResponse : undefined,
    },
    // Per-layer spans (middleware, router, handler) cost most of Express' overhead and say little;
    // http.route is still set on the server span.
    express: { ignoreLayersType: ['middleware', 'router', 'request_handler'] },
    'aws-sdk': { suppressInternalInstrumentation: true },
    'runtime-node': { monitoringPrecision: 5000 },
  };
}

/** The short names of the instrumentations to create, by upstream's rules and then our curation. */
export function chosen(config: InstrumentationConfig): string[] {
  for (const name of [...(config.enabledInstrumentations ?? []), ...config.disabledInstrumentations]) {
    if (!(name in UPSTREAM) && !(name in OURS))
      diag.error(`Provided instrumentation name "@opentelemetry/instrumentation-${name}" not found`);
  }
  const known = [...Object.keys(UPSTREAM), ...Object.keys(OURS)];
  const enabled = config.enabledInstrumentations ?? known.filter((n) => !UPSTREAM_EXCLUDED.includes(n));
  let names = known.filter(
    (name) => enabled.includes(name) && !config.disabledInstrumentations.includes(name),
  );
  if (!config.instrumentationsFromEnv) {
    const folders = appFolders();
    names = names.filter(
      (name) =>
        !(CURATED_OFF as readonly string[]).includes(name) &&
        (targetsOf(name) === undefined || targetsOf(name)!.some((module) => installed(module, folders))),
    );
  }
  return names;
}

/**
 * The chosen instrumentations. A library's is deferred — created when the app first loads the library — wherever ES
 * modules are hooked in-thread (Node >= 24.11.1, >= 22.22.3: the hook that sees an import before it loads); elsewhere,
 * and for Node's own modules, each is created now.
 */
export function instrumentations(
  config: InstrumentationConfig,
  defer: boolean = supportsSyncHooks(),
): Instrumentation[] {
  const created = create(config, defer);
  for (const instrumentation of created)
    for (const name of patchedModules(instrumentation)) PATCHED.add(name);
  return created;
}

/** The modules the instrumentations of this process patch or will patch (package names and Node's own modules). */
const PATCHED = new Set<string>();

/** A deferred instrumentation's packages (what its library's first load builds it for); else its module definitions. */
function patchedModules(instrumentation: Instrumentation): readonly string[] {
  if (instrumentation instanceof DeferredInstrumentation) return instrumentation.packages;
  const definitions = (
    instrumentation as Partial<{ getModuleDefinitions(): { name: string }[] }>
  ).getModuleDefinitions?.();
  return (definitions ?? []).map((definition) => definition.name);
}

/**
 * What the ES module hook (import-in-the-middle) must wrap: the files of the packages an instrumentation patches,
 * and Node's own modules it patches, by name. Wrapping every ES module instead costs each one a second, generated
 * module of its exports: a worker sandbox, whose code, AWS SDK and semantic conventions load as ES modules, held
 * ≈ 30 MiB more for it (docs/performance.md, issue 24); the OpenTelemetry packages a deferred instrumentation loads
 * later are left out the same way. An instrumentation created after start (an app's own registerInstrumentations)
 * patches its modules under require only.
 */
export function esmHookTargets(): (string | RegExp)[] {
  return [...PATCHED].map((name) =>
    isBuiltin(name) ? name : new RegExp(`/node_modules/${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`),
  );
}

function create(config: InstrumentationConfig, defer: boolean): Instrumentation[] {
  const configs = curatedConfigs(config);
  const created: Instrumentation[] = [];
  for (const name of chosen(config)) {
    try {
      const ours = OURS[name];
      const targets = TARGETS[name];
      if (ours) created.push(ours.create());
      else if (defer && targets)
        created.push(
          new DeferredInstrumentation(
            instrumentationPackage(name),
            targets,
            (settings) => new (load(name))(settings),
            configs[name],
          ),
        );
      else created.push(new (load(name))(configs[name] ?? {}));
    } catch (error) {
      diag.error(`instrumentation ${name} could not be created`, error);
    }
  }
  return created;
}

type InstrumentationClass = new (config: UpstreamConfig) => Instrumentation;

const require = createRequire(import.meta.url);

/**
 * An instrumentation's class, its package loaded now. The ES build is loaded where it resolves from here (require of
 * an ES module, synchronous), so it shares the SDK modules already loaded; else the package is looked up the way
 * `auto-instrumentations-node` finds its own dependencies (a non-hoisting package manager).
 */
function load(name: string): InstrumentationClass {
  const specifier = instrumentationPackage(name);
  let exports: Record<string, unknown>;
  try {
    exports = loadPackage<Record<string, unknown>>(specifier);
  } catch {
    const upstream = require.resolve(AUTO_INSTRUMENTATIONS_PACKAGE);
    exports = createRequire(upstream)(specifier) as Record<string, unknown>;
  }
  const Class = exports[UPSTREAM[name]!];
  if (typeof Class !== 'function') throw new Error(`${specifier} exports no ${UPSTREAM[name]}`);
  return Class as InstrumentationClass;
}

/**
 * Node's http module through getBuiltinModule, not an ES import: an ES module's `import … from 'node:http'` reads
 * every export of the module, and its lazy WebSocket exports load Node's whole bundled undici (≈ 0.75 MB of source,
 * ≈ 5 MiB of an idle process's memory) into every process, fetch or not.
 */
const { ServerResponse } = process.getBuiltinModule('node:http') as typeof import('node:http');

const TRACERESPONSE = Symbol('observatory.traceresponse');
type WithTraceResponse = Response & { [TRACERESPONSE]?: string };

/**
 * Server spans only: the header must be set before the response is sent, and the hook runs at request start. Some
 * frameworks clear every header before writing an error response (Koa's default error handler does), so the value
 * is also kept on the response and put back when the head is written (keepTraceResponse).
 */
function addTraceResponse(span: Pick<Span, 'spanContext'>, response: unknown): void {
  if (!(response instanceof ServerResponse) || response.headersSent) return;
  const value = formatTraceResponse(span.spanContext());
  (response as WithTraceResponse)[TRACERESPONSE] = value;
  response.setHeader('traceresponse', value);
}

let keeping = false;

/** Wraps `writeHead` once for the process: a traceresponse removed since request start is set again. */
function keepTraceResponse(): void {
  if (keeping) return;
  keeping = true;
  const writeHead = ServerResponse.prototype.writeHead;
  ServerResponse.prototype.writeHead = function (this: WithTraceResponse, ...args: unknown[]) {
    const value = this[TRACERESPONSE];
    if (value !== undefined && !this.headersSent && !this.hasHeader('traceresponse')) {
      this.setHeader('traceresponse', value);
    }
    return (writeHead as (...a: unknown[]) => Response).apply(this, args);
  } as typeof writeHead;
}
