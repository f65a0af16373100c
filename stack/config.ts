/**
 * Every default of the local stack in one place: versions, ports, folders, the bucket and its local credentials.
 * Read lazily from the environment (empty counts as unset; a bad value warns and falls back).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  localStackPorts,
  s3Settings,
  type LocalStackPorts,
  type S3Settings,
} from '../common/config.ts';
import { readBoolean, readChoice, readInteger, readList, readString, type Env } from '../common/env.ts';
import { REPO_ROOT, STATE_ROOT } from '../common/paths.ts';
import { collectorManifestFile, collectorRoleFiles, type CollectorBuild } from './collector-roles.ts';

export { REPO_ROOT };

/** Versions of what the stack builds or installs. Change one here and the next `stack up` rebuilds it. */
export const VERSIONS = {
  /** The Collector Builder; the manifest pins the same core and contrib release. */
  ocb: 'v0.158.0',
  /** Module tag v1.76.0 of github.com/jaegertracing/jaeger is Jaeger v2.13.0. */
  jaeger: 'v1.76.0',
  gofakes3: 'v1.2.0',
  /** ElasticMQ, the SQS-compatible queue server (Maven Central: org.elasticmq:elasticmq-server_2.13). */
  elasticmq: '1.7.1',
  /** Debian's package; the stack checks the major version only. */
  prometheus: '2',
} as const;

/**
 * Modules whose checksum the module proxy's checksum database does not serve, although the proxy serves the module.
 * Only these are exempt from verification (GONOSUMDB); everything else is checked as usual.
 */
export const UNVERIFIED_GO_MODULES = [
  'github.com/open-telemetry/opentelemetry-collector-contrib/pkg/batchperresourceattr',
];

export type CollectorPorts = LocalStackPorts['collector'];
export type JaegerPorts = LocalStackPorts['jaeger'];

export interface StackConfig {
  repoRoot: string;
  /** Pid files, logs, rendered configs and data of the running stack. `OBSERVATORY_STACK_DIR`. */
  stateDir: string;
  /** Built binaries and build folders, outside the clone, keyed by version. `OBSERVATORY_CACHE_DIR`. */
  cacheDir: string;
  /**
   * Fetch and build the missing binaries (S3 store, ElasticMQ, Jaeger, the Collector) side by side rather than one
   * after another: module downloads and each build's single-threaded link leave a core idle when a build runs alone
   * (`npm run bench -- coldstart [--sequential]` compares); a machine short of memory may prefer one Go build at a
   * time. `OBSERVATORY_BUILD_PARALLEL`.
   * @default true
   */
  buildsInParallel: boolean;
  /**
   * The Collector's config files, given to it in this order (each a `--config`; it merges them). The local role's by
   * default; `OBSERVATORY_COLLECTOR_CONFIG` names others, comma-separated.
   * @default collector-config/base.yaml, collector-config/local.yaml (COLLECTOR_ROLES.local)
   */
  collectorConfigFiles: string[];
  /**
   * Which Collector build the stack runs: `local` (manifest-local.yaml, the components the local role names) or
   * `full` (manifest.yaml, every role's, and the contrib redaction processor), for config files naming more than the
   * local build has. `OBSERVATORY_COLLECTOR_BUILD`.
   * @default local
   */
  collectorBuild: CollectorBuild;
  collector: CollectorPorts;
  /**
   * The Collector's Go garbage collector: GOGC (how far the heap may grow past the live heap before a collection)
   * and GOMEMLIMIT (a soft ceiling at which it collects anyway). Go's default (GOGC 100, no limit) collects four times as
   * often: background marking took 9 % of the Collector's CPU at 10 000 spans/s, 5 % with these (bench/collector.ts,
   * variant `go-gc-default`); the limit keeps the larger heap bounded: 144 MiB kept the Collector's peak RSS at 191 MiB
   * at 4 000–5 000 spans/s, with Jaeger's queue in memory (issue 25; 320 MiB before, variant `go-memlimit-320`). `OBSERVATORY_COLLECTOR_GOGC`,
   * `OBSERVATORY_COLLECTOR_GOMEMLIMIT`.
   * `maxProcs`: Go's GOMAXPROCS, the cores the Collector's goroutines run on at once (unset: Go's default, every
   * core). `OBSERVATORY_COLLECTOR_GOMAXPROCS`.
   * @default { gogc: '400', memLimit: '144MiB' }
   */
  collectorGc: { gogc: string; memLimit: string; maxProcs?: string };
  jaeger: JaegerPorts;
  /**
   * Jaeger's Go garbage collector: Go's GOGC, and a soft limit of 200 MiB, above what its memory store holds at
   * `jaegerMaxTraces` (≈ 100 MiB of the demo's traces), so the heap's growth between collections stays under the
   * ceiling (bench/jaeger.ts). Raise it with `jaegerMaxTraces`: a limit below what the store holds makes Go collect
   * constantly (Badger, measured: a 256 MiB limit cost 2.4× the CPU). `OBSERVATORY_JAEGER_GOGC`,
   * `OBSERVATORY_JAEGER_GOMEMLIMIT`.
   * @default { gogc: '100', memLimit: '200MiB' }
   */
  jaegerGc: { gogc: string; memLimit: string };
  /** `OBSERVATORY_PROMETHEUS_SCRAPE_INTERVAL`. @default 5s */
  prometheus: { port: number; scrapeInterval: string };
  /** The local store: its port, and the bucket and credentials every local client uses. */
  s3: S3Settings & {
    mode: 'local';
    endpoint: string;
    port: number;
    accessKeyId: string;
    secretAccessKey: string;
  };
  /** The SQS-compatible queue server (the ETL's SQS dispatch path). */
  sqs: { port: number; region: string };
  /** How often spanmetrics flushes (the Collector's default is 60 s, too slow to look at). @default 5s */
  spanmetricsFlushInterval: string;
  /**
   * Jaeger's config file. Its memory store keeps the newest `jaegerMaxTraces` traces; older ones are read from the
   * lake. `OBSERVATORY_JAEGER_CONFIG`. @default deploy/local/jaeger.yaml
   */
  jaegerConfigFile: string;
  /**
   * How many traces Jaeger's memory store keeps (the newest; older ones are read from the lake). Bounds Jaeger's
   * memory: ≈ 1.3 KiB a span as Jaeger keeps it, and the demo's traces hold ≈ 15 spans on average (ETL jobs hundreds),
   * so ≈ 100 MiB for 5 000 of them, half the heap limit (`jaegerGc`). 10 000 filled the limit under the demo's load
   * and Go then collected without pause: Jaeger used half a core (docs/stack.md, Jaeger's store).
   * `OBSERVATORY_JAEGER_MAX_TRACES`.
   * @default 5000
   */
  jaegerMaxTraces: number;
  /** How long `up` waits for one component to become healthy, in milliseconds. */
  startTimeoutMs: number;
}

export function stackConfig(env: Env = process.env): StackConfig {
  const cacheHome = readString(env, 'XDG_CACHE_HOME') ?? join(homedir(), '.cache');
  const ports = localStackPorts(env);
  // The stack always serves the local store, whatever mode this process's own clients are in.
  const s3 = s3Settings({ ...env, OBSERVATORY_S3_MODE: 'local', OBSERVATORY_S3_ENDPOINT: undefined });
  return {
    repoRoot: REPO_ROOT,
    stateDir: resolve(readString(env, 'OBSERVATORY_STACK_DIR') ?? join(STATE_ROOT, 'stack')),
    cacheDir: resolve(readString(env, 'OBSERVATORY_CACHE_DIR') ?? join(cacheHome, 'observatory')),
    buildsInParallel: readBoolean(env, 'OBSERVATORY_BUILD_PARALLEL', true),
    collectorConfigFiles: readList(env, 'OBSERVATORY_COLLECTOR_CONFIG', collectorRoleFiles('local')).map(
      (file) => resolve(file),
    ),
    collectorBuild: readChoice(env, 'OBSERVATORY_COLLECTOR_BUILD', ['local', 'full'], 'local'),
    collector: ports.collector,
    collectorGc: {
      gogc: readString(env, 'OBSERVATORY_COLLECTOR_GOGC') ?? '400',
      memLimit: readString(env, 'OBSERVATORY_COLLECTOR_GOMEMLIMIT') ?? '144MiB',
      maxProcs: readString(env, 'OBSERVATORY_COLLECTOR_GOMAXPROCS'),
    },
    jaeger: ports.jaeger,
    jaegerGc: {
      gogc: readString(env, 'OBSERVATORY_JAEGER_GOGC') ?? '100',
      memLimit: readString(env, 'OBSERVATORY_JAEGER_GOMEMLIMIT') ?? '200MiB',
    },
    prometheus: {
      port: ports.prometheus,
      scrapeInterval: readString(env, 'OBSERVATORY_PROMETHEUS_SCRAPE_INTERVAL') ?? '5s',
    },
    s3: {
      ...s3,
      mode: 'local',
      endpoint: `http://127.0.0.1:${ports.s3}`,
      port: ports.s3,
      region: LOCAL_REGION,
      ...LOCAL_CREDENTIALS,
      credentials: { ...LOCAL_CREDENTIALS },
    },
    sqs: { port: ports.sqs, region: LOCAL_REGION },
    spanmetricsFlushInterval: readString(env, 'OBSERVATORY_SPANMETRICS_FLUSH_INTERVAL') ?? '5s',
    jaegerConfigFile: resolve(
      readString(env, 'OBSERVATORY_JAEGER_CONFIG') ?? join(REPO_ROOT, 'deploy', 'local', 'jaeger.yaml'),
    ),
    jaegerMaxTraces: readInteger(env, 'OBSERVATORY_JAEGER_MAX_TRACES', 5_000, { min: 1 }),
    startTimeoutMs: 90_000,
  };
}

/**
 * A Collector binary's cache key: the builder version, its manifest's data (parsed, so that editing a comment
 * does not cost a rebuild) and the sources of the manifest's local modules (entries with a `path`, our own
 * components: their Go files but tests, go.mod and go.sum). Each build (local, full) has its own manifest, so its own key.
 */
export function collectorBuildKey(build: CollectorBuild, repoRoot: string = REPO_ROOT): string {
  const file = collectorManifestFile(build, repoRoot);
  const manifest = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const hash = createHash('sha256').update(JSON.stringify(manifest));
  for (const dir of localModuleDirs(manifest, dirname(file)))
    for (const source of readdirSync(dir).sort())
      if (isBuildSource(source)) hash.update(source).update(readFileSync(join(dir, source)));
  return `otelcol-${VERSIONS.ocb}-${hash.digest('hex').slice(0, 12)}`;
}

/** A file of a local module that goes into the binary: Go sources but tests, go.mod, go.sum (not a test binary). */
const isBuildSource = (name: string) =>
  (name.endsWith('.go') && !name.endsWith('_test.go')) || name === 'go.mod' || name === 'go.sum';

/** The folders of an ocb manifest's local modules (entries with a `path`), resolved against `manifestDir`. */
export function localModuleDirs(manifest: Record<string, unknown>, manifestDir: string): string[] {
  return Object.values(manifest)
    .filter(Array.isArray)
    .flatMap((entries: { path?: unknown }[]) =>
      entries.flatMap((entry) => (typeof entry?.path === 'string' ? [resolve(manifestDir, entry.path)] : [])),
    );
}

/** The port variables of every local-stack component, in a fixed order (collector, Jaeger, Prometheus, S3, SQS). */
const PORT_NAMES = [
  'COLLECTOR_OTLP_GRPC',
  'COLLECTOR_OTLP_HTTP',
  'COLLECTOR_HEALTH',
  'COLLECTOR_METRICS',
  'COLLECTOR_PROMETHEUS',
  'JAEGER_QUERY',
  'JAEGER_QUERY_GRPC',
  'JAEGER_OTLP_GRPC',
  'JAEGER_OTLP_HTTP',
  'JAEGER_HEALTH',
  'JAEGER_METRICS',
  'PROMETHEUS',
  'S3',
  'SQS',
] as const;

/**
 * The environment that puts a whole stack on ports base..base+13, for stacks of their own beside the shared one
 * (tests, benchmarks): `OBSERVATORY_<COMPONENT>_PORT` for every component.
 */
export function portEnvironment(base: number): Record<string, string> {
  return Object.fromEntries(PORT_NAMES.map((name, i) => [`OBSERVATORY_${name}_PORT`, String(base + i)]));
}
