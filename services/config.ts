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
  };
}

function compactionFault(value: string | undefined): DemoConfig['compactionFault'] {
  if (value === undefined) return undefined;
  if (value === 'hang' || value === 'throw' || value === 'crash') return value;
  throw new Error(`OBSERVATORY_DEMO_COMPACTION_FAULT=${value}: expected hang, throw or crash`);
}
