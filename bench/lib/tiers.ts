/**
 * The scale-out gateway on loopback ports: one load-balancing Collector (collector-config/gateway-lb.yaml) with the
 * static resolver pointing at N sampling Collectors (collector-config/base.yaml and gateway-sampling.yaml), each the
 * committed files with only its environment set. Used by the tier test (test/collector-config/tiers.test.ts) and the sizing benchmark
 * (bench/tiers.ts). Ports: base+0..4 for the load-balancing Collector, then 4 per sampling Collector.
 */
import { join } from 'node:path';
import { CollectorProcess } from './collector-process.ts';

export interface TierOptions {
  base: number;
  /** Folder for queues and logs. */
  dir: string;
  token: string;
  /** OTLP/HTTP base URL the sampling tier exports kept traces to (Jaeger's OTLP port, or a sink). */
  tracesEndpoint: string;
  samplers?: number;
  /** Extra environment for every sampling Collector (OBSERVATORY_SAMPLING_*). */
  samplingEnv?: Record<string, string>;
}

export interface Tiers {
  lb: CollectorProcess;
  samplers: CollectorProcess[];
  /** The load-balancing tier's OTLP/HTTP base URL. */
  lbHttp: string;
  /** Each sampling Collector's prometheus exporter (its span metrics). */
  samplerMetrics: string[];
  /** Each Collector's own metrics (otelcol_*), the load-balancing one first. */
  ownMetrics: string[];
  stop(): Promise<void>;
}

export function tierPorts(base: number, samplers: number) {
  return {
    lb: { grpc: base, http: base + 1, health: base + 2, metrics: base + 3, prometheus: base + 4 },
    samplers: Array.from({ length: samplers }, (_, i) => {
      const at = base + 5 + i * 4;
      return { grpc: at, health: at + 1, metrics: at + 2, prometheus: at + 3 };
    }),
  };
}

/** A sampling Collector's process, not yet started (the tier test restarts one with the same settings). */
export function samplingCollector(options: TierOptions, index: number): CollectorProcess {
  const ports = tierPorts(options.base, options.samplers ?? 2).samplers[index]!;
  const name = `sampling-${String.fromCharCode(97 + index)}`;
  return new CollectorProcess(name, {
    role: 'gateway-sampling',
    healthPort: ports.health,
    logFile: join(options.dir, `${name}.log`),
    env: {
      HOSTNAME: name,
      OBSERVATORY_GATEWAY_LISTEN_HOST: '127.0.0.1',
      OBSERVATORY_COLLECTOR_OTLP_GRPC_PORT: String(ports.grpc),
      OBSERVATORY_COLLECTOR_HEALTH_PORT: String(ports.health),
      OBSERVATORY_COLLECTOR_METRICS_PORT: String(ports.metrics),
      OBSERVATORY_COLLECTOR_PROMETHEUS_PORT: String(ports.prometheus),
      OBSERVATORY_COLLECTOR_STORAGE_DIR: join(options.dir, `${name}-queue`),
      OBSERVATORY_GATEWAY_TRACES_ENDPOINT: options.tracesEndpoint,
      // No logs are sent through the tiers here; the lake exporters only need a syntactically valid endpoint.
      OBSERVATORY_S3_ENDPOINT: 'http://127.0.0.1:9',
      ...options.samplingEnv,
    },
  });
}

export async function startTiers(options: TierOptions): Promise<Tiers> {
  const count = options.samplers ?? 2;
  const ports = tierPorts(options.base, count);
  const samplers = Array.from({ length: count }, (_, i) => samplingCollector(options, i));
  const lb = new CollectorProcess('load-balancing', {
    role: 'gateway-lb',
    healthPort: ports.lb.health,
    logFile: join(options.dir, 'load-balancing.log'),
    env: {
      OBSERVATORY_GATEWAY_TOKEN: options.token,
      OBSERVATORY_GATEWAY_LISTEN_HOST: '127.0.0.1',
      OBSERVATORY_COLLECTOR_OTLP_GRPC_PORT: String(ports.lb.grpc),
      OBSERVATORY_COLLECTOR_OTLP_HTTP_PORT: String(ports.lb.http),
      OBSERVATORY_COLLECTOR_HEALTH_PORT: String(ports.lb.health),
      OBSERVATORY_COLLECTOR_METRICS_PORT: String(ports.lb.metrics),
      OBSERVATORY_COLLECTOR_PROMETHEUS_PORT: String(ports.lb.prometheus),
      OBSERVATORY_COLLECTOR_STORAGE_DIR: join(options.dir, 'load-balancing-queue'),
      OBSERVATORY_SAMPLING_ENDPOINTS: `[${ports.samplers.map((p) => `127.0.0.1:${p.grpc}`).join(', ')}]`,
    },
  });
  const started: CollectorProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((c) => c.stop()));
  };
  try {
    for (const collector of [...samplers, lb]) {
      await collector.start();
      started.push(collector);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    lb,
    samplers,
    lbHttp: `http://127.0.0.1:${ports.lb.http}`,
    samplerMetrics: ports.samplers.map((p) => `http://127.0.0.1:${p.prometheus}/metrics`),
    ownMetrics: [ports.lb, ...ports.samplers].map((p) => `http://127.0.0.1:${p.metrics}/metrics`),
    stop: () => Promise.all([lb, ...samplers].map((c) => c.stop())).then(() => undefined),
  };
}
