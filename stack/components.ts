/**
 * The components of the local stack: how each is started, where it listens, and how its health is checked.
 * Order matters: `up` starts each once the components it sends to listen (COMPONENT_NEEDS), the others side by side,
 * and `down` stops them in reverse order (the Collector first, so it can flush to the others).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Binaries } from './build.ts';
import { collectorConfigArgs } from './collector-roles.ts';
import type { StackConfig } from './config.ts';

export type ComponentName = 's3' | 'sqs' | 'jaeger' | 'prometheus' | 'collector';

export interface ComponentSpec {
  name: ComponentName;
  description: string;
  binary: string;
  args: string[];
  env: Record<string, string>;
  /** The main port, shown by `status`. */
  port: number;
  /** Every port it binds; `up` refuses to start when a foreign process holds one. */
  ports: number[];
  /** Polled until it answers 2xx. */
  healthUrl: string;
  endpoints: Record<string, string>;
  /** Writes the component's rendered config files, if any, before it starts. */
  prepare?: () => void;
}

export const COMPONENT_ORDER: readonly ComponentName[] = ['s3', 'sqs', 'jaeger', 'prometheus', 'collector'];

/**
 * What each component needs listening before it starts: the Collector's exporters write to the S3 store and Jaeger
 * (Prometheus scrapes the Collector, not the other way round). The rest start side by side.
 */
export const COMPONENT_NEEDS: Readonly<Record<ComponentName, readonly ComponentName[]>> = {
  s3: [],
  sqs: [],
  jaeger: [],
  prometheus: [],
  collector: ['s3', 'jaeger'],
};

const local = (port: number, path = '') => `http://127.0.0.1:${port}${path}`;

/** The Collector's sending queues on disk (file_storage), inside the stack's state folder. */
const collectorQueueDir = (config: StackConfig) => join(config.stateDir, 'data', 'collector-queue');

/** Environment variables the Collector's and Jaeger's config files read (`${env:…}`). */
export function stackEnvironment(config: StackConfig): Record<string, string> {
  const { collector, jaeger, s3, prometheus } = config;
  return {
    OBSERVATORY_COLLECTOR_OTLP_GRPC_PORT: String(collector.otlpGrpc),
    OBSERVATORY_COLLECTOR_OTLP_HTTP_PORT: String(collector.otlpHttp),
    OBSERVATORY_COLLECTOR_HEALTH_PORT: String(collector.health),
    OBSERVATORY_COLLECTOR_METRICS_PORT: String(collector.metrics),
    OBSERVATORY_COLLECTOR_PROMETHEUS_PORT: String(collector.prometheusExporter),
    OBSERVATORY_COLLECTOR_STORAGE_DIR: collectorQueueDir(config),
    OBSERVATORY_SPANMETRICS_FLUSH_INTERVAL: config.spanmetricsFlushInterval,
    OBSERVATORY_JAEGER_QUERY_PORT: String(jaeger.query),
    OBSERVATORY_JAEGER_QUERY_GRPC_PORT: String(jaeger.queryGrpc),
    OBSERVATORY_JAEGER_OTLP_GRPC_PORT: String(jaeger.otlpGrpc),
    OBSERVATORY_JAEGER_OTLP_HTTP_PORT: String(jaeger.otlpHttp),
    OBSERVATORY_JAEGER_HEALTH_PORT: String(jaeger.health),
    OBSERVATORY_JAEGER_METRICS_PORT: String(jaeger.metrics),
    OBSERVATORY_JAEGER_MAX_TRACES: String(config.jaegerMaxTraces),
    OBSERVATORY_PROMETHEUS_PORT: String(prometheus.port),
    OBSERVATORY_PROMETHEUS_SCRAPE_INTERVAL: prometheus.scrapeInterval,
    OBSERVATORY_S3_PORT: String(s3.port),
    OBSERVATORY_S3_BUCKET: s3.bucket,
    OBSERVATORY_S3_REGION: s3.region,
  };
}

/** Every component, in start order (COMPONENT_ORDER). */
export function componentSpecs(config: StackConfig, binaries: Binaries): ComponentSpec[] {
  const env = stackEnvironment(config);
  return [
    s3Spec(config, binaries),
    sqsSpec(config, binaries),
    jaegerSpec(config, binaries, env),
    prometheusSpec(config, binaries, env),
    collectorSpec(config, binaries, env),
  ];
}

/** The object store: the lake, the ETL's results and the demo's data; its bucket exists from the start. */
function s3Spec(config: StackConfig, binaries: Binaries): ComponentSpec {
  const { s3 } = config;
  const dataDir = join(config.stateDir, 'data');
  return {
    name: 's3',
    description: 'S3-compatible object store (gofakes3, objects as files on disk)',
    binary: binaries.s3,
    args: [
      '-host',
      `127.0.0.1:${s3.port}`,
      '-backend',
      'fs',
      '-fs.path',
      join(dataDir, 's3'),
      '-fs.create',
      '-initialbucket',
      s3.bucket,
    ],
    env: {},
    port: s3.port,
    ports: [s3.port],
    // The bucket's top folder, with the delimiter `/`: without one the store walks every object of the bucket and
    // reads each one's metadata (it ignores max-keys), which an hour of the demo's lake took past the check's time.
    healthUrl: local(s3.port, `/${s3.bucket}?list-type=2&max-keys=1&delimiter=%2F`),
    endpoints: { s3: local(s3.port) },
    prepare: () => mkdirSync(join(dataDir, 's3'), { recursive: true }),
  };
}

/** The queue server of the ETL's SQS path; its config is rendered into the state folder. */
function sqsSpec(config: StackConfig, binaries: Binaries): ComponentSpec {
  const { sqs, stateDir } = config;
  return {
    name: 'sqs',
    description: 'SQS-compatible queue server (ElasticMQ, in memory)',
    binary: binaries.sqs.java,
    // A small heap and the client JIT: it holds a handful of queues, and starts in about a second this way.
    args: [
      '-Xmx96m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Dconfig.file=${join(stateDir, 'elasticmq.conf')}`,
      '-cp',
      binaries.sqs.classpath,
      'org.elasticmq.server.Main',
    ],
    env: {},
    port: sqs.port,
    ports: [sqs.port],
    healthUrl: local(sqs.port, '/?Action=ListQueues'),
    endpoints: { sqs: local(sqs.port) },
    prepare: () =>
      writeFileSync(
        join(stateDir, 'elasticmq.conf'),
        [
          '# Rendered by `observatory stack up` (stack/components.ts).',
          'include classpath("application.conf")',
          `node-address { protocol = http, host = "127.0.0.1", port = ${sqs.port}, context-path = "" }`,
          `rest-sqs { enabled = true, bind-port = ${sqs.port}, bind-hostname = "127.0.0.1", sqs-limits = strict }`,
          `aws { region = "${sqs.region}", accountId = "000000000000" }`,
          '',
        ].join('\n'),
      ),
  };
}

function jaegerSpec(config: StackConfig, binaries: Binaries, env: Record<string, string>): ComponentSpec {
  const { jaeger } = config;
  return {
    name: 'jaeger',
    description: `Jaeger v2 all-in-one, the newest ${config.jaegerMaxTraces} traces in memory (older ones: the lake)`,
    binary: binaries.jaeger,
    args: ['--config', config.jaegerConfigFile],
    env: {
      ...env,
      GOGC: config.jaegerGc.gogc,
      GOMEMLIMIT: config.jaegerGc.memLimit,
      // Jaeger's own traces are off (jaeger.yaml, enable_tracing). Were they switched on, its exporter would send them
      // to this stack's Collector rather than to whichever process listens on 4317 (another stack's), so this stack's
      // self-noise test (test/stack/self-noise.test.ts) would see them.
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${config.collector.otlpGrpc}`,
    },
    port: jaeger.query,
    ports: [jaeger.query, jaeger.queryGrpc, jaeger.otlpGrpc, jaeger.otlpHttp, jaeger.health, jaeger.metrics],
    healthUrl: local(jaeger.query, '/api/services'),
    endpoints: {
      query: local(jaeger.query),
      traces: local(jaeger.query, '/api/traces/{trace_id}'),
      otlpGrpc: `127.0.0.1:${jaeger.otlpGrpc}`,
      otlpHttp: local(jaeger.otlpHttp),
    },
  };
}

/** Prometheus with the repository's scrape config, rendered with the stack's ports. */
function prometheusSpec(config: StackConfig, binaries: Binaries, env: Record<string, string>): ComponentSpec {
  const { prometheus, repoRoot } = config;
  const dataDir = join(config.stateDir, 'data');
  const promConfig = join(config.stateDir, 'prometheus.yml');
  return {
    name: 'prometheus',
    description: 'Prometheus, scraping the Collector',
    binary: binaries.prometheus,
    args: [
      `--config.file=${promConfig}`,
      `--storage.tsdb.path=${join(dataDir, 'prometheus')}`,
      '--storage.tsdb.retention.time=2d',
      `--web.listen-address=127.0.0.1:${prometheus.port}`,
      // Span-metric exemplars (a trace ID per latency bucket) for the console's latency panels.
      '--enable-feature=exemplar-storage',
    ],
    env: {},
    port: prometheus.port,
    ports: [prometheus.port],
    healthUrl: local(prometheus.port, '/-/ready'),
    endpoints: { query: local(prometheus.port, '/api/v1/query'), ui: local(prometheus.port) },
    prepare: () => {
      const template = readFileSync(join(repoRoot, 'deploy', 'local', 'prometheus.yml'), 'utf8');
      writeFileSync(promConfig, renderTemplate(template, env));
    },
  };
}

/** The Collector, writing to the local store with its credentials. */
function collectorSpec(config: StackConfig, binaries: Binaries, env: Record<string, string>): ComponentSpec {
  const { collector, s3 } = config;
  return {
    name: 'collector',
    description: "OpenTelemetry Collector (Observatory's ocb build)",
    binary: binaries.collector,
    args: collectorConfigArgs(config.collectorConfigFiles),
    env: {
      ...env,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region,
      // The local store does not decode aws-chunked uploads, which the SDK's default checksums use.
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
      GOGC: config.collectorGc.gogc,
      GOMEMLIMIT: config.collectorGc.memLimit,
      ...(config.collectorGc.maxProcs ? { GOMAXPROCS: config.collectorGc.maxProcs } : {}),
    },
    port: collector.otlpHttp,
    ports: [
      collector.otlpGrpc,
      collector.otlpHttp,
      collector.health,
      collector.metrics,
      collector.prometheusExporter,
    ],
    healthUrl: local(collector.health, '/'),
    endpoints: {
      otlpHttp: local(collector.otlpHttp),
      otlpGrpc: `127.0.0.1:${collector.otlpGrpc}`,
      health: local(collector.health),
      metrics: local(collector.metrics, '/metrics'),
      prometheusExporter: local(collector.prometheusExporter, '/metrics'),
    },
    prepare: () => mkdirSync(collectorQueueDir(config), { recursive: true }),
  };
}

/** Replaces each ${NAME} with its value; an unknown name is an error, so a typo cannot render silently. */
function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{([A-Z0-9_]+)\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template variable \${${name}} has no value`);
    return value;
  });
}
