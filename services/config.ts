/**
 * Every default of the demo platform in one place: ports, service addresses, data layout and the fault knobs.
 * Read from the environment when called. Fault knobs are HotROD-style: per-service added latency and error rate
 * (variables), and a per-request header the load generator sets.
 */
import { readBoolean, readInteger, readNumber, readString, type Env } from '../common/env.ts';
import { s3Settings, type S3Settings } from '../common/config.ts';

export const SERVICE_NAMES = ['gateway', 'catalog', 'downloads', 'users'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface Faults {
  /** Added latency before each request is handled, in milliseconds. */
  latencyMs: number;
  /** Share of requests (0–1) that fail with a 500 before doing any work. */
  errorRate: number;
}

export interface DemoConfig {
  ports: Record<ServiceName, number>;
  /**
   * Base URLs the services call each other at. `OBSERVATORY_<SERVICE>_URL`, `OBSERVATORY_ETL_URL`.
   * @default http://127.0.0.1:<the service's port>; the ETL listener's http://127.0.0.1:8084
   */
  urls: Record<ServiceName | 'etl', string>;
  /** `OBSERVATORY_ETL_URL` is set: the ETL listener runs elsewhere, and the demo does not start one. */
  externalEtl: boolean;
  faults: Record<ServiceName, Faults>;
  /**
   * The deliberate flaw: the gateway fetches each search result's details with one call per scene (N+1), instead
   * of asking the catalog for full records. Obvious in a trace as a staircase of catalog calls.
   */
  nPlusOne: boolean;
  /** Per-call timeout of service-to-service requests. */
  downstreamTimeoutMs: number;
  /** Largest JSON body the gateway accepts. */
  bodyLimit: string;
  /**
   * Honour the per-request fault header (FAULT_HEADER). Off unless `OBSERVATORY_DEMO_FAULT_HEADER=true`: otherwise any
   * caller could fail or stall the services. The demo and the tests turn it on for the services they start.
   * @default false
   */
  faultHeader: boolean;
  /**
   * The longest latency the fault header may ask for: one second past the downstream timeout, so a request that asks
   * for more still times out at its caller, and no longer holds the service.
   */
  faultLatencyCapMs: number;
  /**
   * A fault the demo asks for in each compaction job it runs (`hang`, `throw` or `crash` on the job's first chunk,
   * every attempt), for tests of how the demo stops; the listener must accept faults (`OBSERVATORY_ETL_ALLOW_FAULTS`).
   * `OBSERVATORY_DEMO_COMPACTION_FAULT`. @default none
   */
  compactionFault: 'hang' | 'throw' | 'crash' | undefined;
  /** Serve the W3C Trace Context test harness' endpoint (POST /test) on the gateway. */
  w3cTestEndpoint: boolean;
  /** Where services listen: loopback, or 0.0.0.0 inside a container network (deploy/compose). */
  listenHost: string;
  /** The S3 store the services keep their data in (common/config.ts: local or cloud). */
  s3: S3Settings;
  /** How the platform runs its Node processes (the services and the ETL listener): memory settings. */
  runtime: DemoRuntime;
  /**
   * Send warm-up requests of every kind through the gateway, and wait for a warm-up job, before the demo's load
   * starts: the first requests of a fresh process load modules, open connections, start a worker sandbox and run
   * unoptimised code, and at 20 req/s the requests behind them queue for seconds. `OBSERVATORY_DEMO_WARM_UP`.
   * @default true
   */
  warmUp: boolean;
}

/**
 * Memory settings of the platform's processes. Measured (docs/performance.md, Memory): a service's young generation
 * grows to V8's default, sized by the machine's memory, of 16 MiB semi-spaces (≈ 35 MiB RSS per process) although a
 * request's garbage is small and short-lived; glibc gives each thread that allocates an arena of its own (≈ 15 MiB);
 * and each worker sandbox the listener keeps warm is a whole Node process with the SDK.
 */
export interface DemoRuntime {
  /**
   * V8's semi-space limit of each service, in MiB (`--max-semi-space-size`); 0 leaves V8's default.
   * `OBSERVATORY_DEMO_SEMI_SPACE_MB`. @default 2
   */
  semiSpaceMb: number;
  /** glibc's `MALLOC_ARENA_MAX` of each process; 0 leaves glibc's default. `OBSERVATORY_DEMO_MALLOC_ARENAS`. @default 2 */
  mallocArenas: number;
  /**
   * Worker sandboxes the demo's ETL listener runs at once (its `OBSERVATORY_ETL_CONCURRENCY`, unless that is set): the
   * demo's jobs are a few small chunks each, which one warm sandbox serves. `OBSERVATORY_DEMO_WORKER_SANDBOXES`.
   * @default 1
   */
  workerSandboxes: number;
  /**
   * How long an idle worker sandbox of the demo's listener stays warm (its `OBSERVATORY_ETL_IDLE_MS`, unless that is
   * set): under the demo's load a job arrives every few seconds and keeps one warm; idle, the memory is given back.
   * `OBSERVATORY_DEMO_WORKER_IDLE_MS`. @default 30000
   */
  workerIdleMs: number;
  /**
   * Run the services, the listener and the preload built to JavaScript (demo/platform.ts), not the TypeScript
   * sources, whose type stripping keeps ≈ 18 MiB resident in each process. `OBSERVATORY_DEMO_JS_BUILD`. @default true
   */
  jsBuild: boolean;
}

/**
 * The request header that injects a fault for one request: `<service>:error` or `<service>:latency=<ms>`. Honoured
 * only where `faultHeader` is on, and the latency is capped (`faultLatencyCapMs`).
 */
export const FAULT_HEADER = 'x-demo-fault';

export function demoConfig(env: Env = process.env): DemoConfig {
  const port = (name: ServiceName, fallback: number) =>
    readInteger(env, `OBSERVATORY_${name.toUpperCase()}_PORT`, fallback, { min: 0, max: 65535 });
  const ports: Record<ServiceName, number> = {
    gateway: port('gateway', 8080),
    catalog: port('catalog', 8081),
    downloads: port('downloads', 8082),
    users: port('users', 8083),
  };
  const url = (name: ServiceName) =>
    readString(env, `OBSERVATORY_${name.toUpperCase()}_URL`) ?? `http://127.0.0.1:${ports[name]}`;
  const faults = (name: ServiceName): Faults => ({
    latencyMs: readInteger(env, `OBSERVATORY_${name.toUpperCase()}_LATENCY_MS`, 0, { min: 0, max: 60_000 }),
    errorRate: readNumber(env, `OBSERVATORY_${name.toUpperCase()}_ERROR_RATE`, 0, { min: 0, max: 1 }),
  });
  const downstreamTimeoutMs = readInteger(env, 'OBSERVATORY_DOWNSTREAM_TIMEOUT_MS', 5000, { min: 1 });
  return {
    ports,
    urls: {
      gateway: url('gateway'),
      catalog: url('catalog'),
      downloads: url('downloads'),
      users: url('users'),
      etl: readString(env, 'OBSERVATORY_ETL_URL') ?? 'http://127.0.0.1:8084',
    },
    externalEtl: readString(env, 'OBSERVATORY_ETL_URL') !== undefined,
    faults: {
      gateway: faults('gateway'),
      catalog: faults('catalog'),
      downloads: faults('downloads'),
      users: faults('users'),
    },
    nPlusOne: readBoolean(env, 'OBSERVATORY_DEMO_N_PLUS_ONE', true),
    downstreamTimeoutMs,
    faultHeader: readBoolean(env, 'OBSERVATORY_DEMO_FAULT_HEADER', false),
    faultLatencyCapMs: downstreamTimeoutMs + 1000,
    bodyLimit: '16kb',
    compactionFault: compactionFault(readString(env, 'OBSERVATORY_DEMO_COMPACTION_FAULT')),
    w3cTestEndpoint: readBoolean(env, 'OBSERVATORY_W3C_TEST_ENDPOINT', false),
    listenHost: readString(env, 'OBSERVATORY_LISTEN_HOST') ?? '127.0.0.1',
    s3: s3Settings(env),
    runtime: {
      semiSpaceMb: readInteger(env, 'OBSERVATORY_DEMO_SEMI_SPACE_MB', 2, { min: 0, max: 256 }),
      mallocArenas: readInteger(env, 'OBSERVATORY_DEMO_MALLOC_ARENAS', 2, { min: 0, max: 64 }),
      workerSandboxes: readInteger(env, 'OBSERVATORY_DEMO_WORKER_SANDBOXES', 1, { min: 1, max: 256 }),
      workerIdleMs: readInteger(env, 'OBSERVATORY_DEMO_WORKER_IDLE_MS', 30_000, { min: 0 }),
      jsBuild: readBoolean(env, 'OBSERVATORY_DEMO_JS_BUILD', true),
    },
    warmUp: readBoolean(env, 'OBSERVATORY_DEMO_WARM_UP', true),
  };
}

function compactionFault(value: string | undefined): DemoConfig['compactionFault'] {
  if (value === undefined) return undefined;
  if (value === 'hang' || value === 'throw' || value === 'crash') return value;
  throw new Error(`OBSERVATORY_DEMO_COMPACTION_FAULT=${value}: expected hang, throw or crash`);
}
