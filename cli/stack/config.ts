/**
 * Every default of the local stack in one place: versions, ports, folders, the bucket and its local credentials.
 * Read lazily from the environment (empty counts as unset; a bad value warns and falls back).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { readPort, readString, type Env } from '../../instrumentation/src/env.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

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

export interface CollectorPorts {
  otlpGrpc: number;
  otlpHttp: number;
  health: number;
  /** The Collector's own metrics (Prometheus format). */
  metrics: number;
  /** The prometheus exporter: application and span metrics for Prometheus to scrape. */
  prometheusExporter: number;
}

export interface JaegerPorts {
  query: number;
  queryGrpc: number;
  otlpGrpc: number;
  otlpHttp: number;
  health: number;
  metrics: number;
}

export interface S3Settings {
  port: number;
  bucket: string;
  region: string;
  /** Local, non-secret credentials: the local store accepts any; the Collector and SDK clients still need some. */
  accessKeyId: string;
  secretAccessKey: string;
}

export interface StackConfig {
  repoRoot: string;
  /** Pid files, logs, rendered configs and data of the running stack. */
  stateDir: string;
  /** Built binaries and build folders, outside the clone, keyed by version. */
  cacheDir: string;
  /** The Collector's config file. */
  collectorConfig: string;
  collector: CollectorPorts;
  jaeger: JaegerPorts;
  prometheus: { port: number; scrapeInterval: string };
  s3: S3Settings;
  /** The SQS-compatible queue server (the ETL's SQS dispatch path). */
  sqs: { port: number; region: string };
  /** How often spanmetrics flushes (the Collector's default is 60 s, too slow to look at). */
  spanmetricsFlushInterval: string;
  /** How long `up` waits for one component to become healthy, in milliseconds. */
  startTimeoutMs: number;
}

export function stackConfig(env: Env = process.env): StackConfig {
  const cacheHome = readString(env, 'XDG_CACHE_HOME') ?? join(homedir(), '.cache');
  return {
    repoRoot: REPO_ROOT,
    stateDir: resolve(readString(env, 'OBSERVATORY_STACK_DIR') ?? join(REPO_ROOT, '.observatory', 'stack')),
    cacheDir: resolve(readString(env, 'OBSERVATORY_CACHE_DIR') ?? join(cacheHome, 'observatory')),
    collectorConfig: resolve(
      readString(env, 'OBSERVATORY_COLLECTOR_CONFIG') ?? join(REPO_ROOT, 'collector-config', 'local.yaml'),
    ),
    collector: {
      otlpGrpc: readPort(env, 'OBSERVATORY_COLLECTOR_OTLP_GRPC_PORT', 4317),
      otlpHttp: readPort(env, 'OBSERVATORY_COLLECTOR_OTLP_HTTP_PORT', 4318),
      health: readPort(env, 'OBSERVATORY_COLLECTOR_HEALTH_PORT', 13133),
      metrics: readPort(env, 'OBSERVATORY_COLLECTOR_METRICS_PORT', 8888),
      prometheusExporter: readPort(env, 'OBSERVATORY_COLLECTOR_PROMETHEUS_PORT', 8889),
    },
    jaeger: {
      query: readPort(env, 'OBSERVATORY_JAEGER_QUERY_PORT', 16686),
      queryGrpc: readPort(env, 'OBSERVATORY_JAEGER_QUERY_GRPC_PORT', 16685),
      otlpGrpc: readPort(env, 'OBSERVATORY_JAEGER_OTLP_GRPC_PORT', 14317),
      otlpHttp: readPort(env, 'OBSERVATORY_JAEGER_OTLP_HTTP_PORT', 14318),
      health: readPort(env, 'OBSERVATORY_JAEGER_HEALTH_PORT', 14133),
      metrics: readPort(env, 'OBSERVATORY_JAEGER_METRICS_PORT', 14269),
    },
    prometheus: {
      port: readPort(env, 'OBSERVATORY_PROMETHEUS_PORT', 9090),
      scrapeInterval: readString(env, 'OBSERVATORY_PROMETHEUS_SCRAPE_INTERVAL') ?? '5s',
    },
    s3: {
      port: readPort(env, 'OBSERVATORY_S3_PORT', 9000),
      bucket: readString(env, 'OBSERVATORY_S3_BUCKET') ?? 'observatory',
      region: 'us-east-1',
      accessKeyId: 'observatory-local',
      secretAccessKey: 'observatory-local-secret',
    },
    sqs: { port: readPort(env, 'OBSERVATORY_SQS_PORT', 9324), region: 'us-east-1' },
    spanmetricsFlushInterval: readString(env, 'OBSERVATORY_SPANMETRICS_FLUSH_INTERVAL') ?? '5s',
    startTimeoutMs: 90_000,
  };
}

/**
 * The Collector binary's cache key: the builder version and the manifest's data (parsed, so that editing a comment
 * does not cost a rebuild).
 */
export function collectorBuildKey(repoRoot: string = REPO_ROOT): string {
  const manifest = parse(
    readFileSync(join(repoRoot, 'collector-config', 'manifest.yaml'), 'utf8'),
  ) as unknown;
  const digest = createHash('sha256').update(JSON.stringify(manifest)).digest('hex').slice(0, 12);
  return `otelcol-${VERSIONS.ocb}-${digest}`;
}
