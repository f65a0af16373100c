/**
 * Every default of `observatory ui` in one place, read when called: where it listens (loopback only), where the
 * backends it reads are (the local stack's, common/config.ts), and where its front end and dashboards live.
 */
import { join } from 'node:path';
import { readPort, type Env } from '../common/env.ts';
import { localStackPorts } from '../common/config.ts';
import { REPO_ROOT } from '../common/paths.ts';
import { traceConfig, type TraceConfig } from '../trace/index.ts';

export interface UiConfig {
  /** Always loopback: the console reads every backend with no authentication of its own. */
  host: '127.0.0.1';
  /** @default 8686 (OBSERVATORY_UI_PORT, or --port) */
  port: number;
  /** Prometheus' HTTP API, e.g. http://127.0.0.1:9090. */
  prometheusUrl: string;
  /** Jaeger, the S3 store and the lake, as `observatory trace` reads them. */
  trace: TraceConfig;
  /** The dashboards Grafana provisions (committed JSON). */
  dashboardsDir: string;
  /** The front end's sources (browser TypeScript). */
  sourceDir: string;
  /** The bundle esbuild writes (git-ignored). */
  assetsDir: string;
  /** How many traces of each service the traces page and the service map look at. @default 50 */
  searchLimit: number;
  /** One request to Prometheus through the proxy. @default 15000 */
  prometheusTimeoutMs: number;
}

export function uiConfig(env: Env = process.env): UiConfig {
  return {
    host: '127.0.0.1',
    port: readPort(env, 'OBSERVATORY_UI_PORT', 8686),
    prometheusUrl: `http://127.0.0.1:${localStackPorts(env).prometheus}`,
    trace: traceConfig(env),
    dashboardsDir: join(REPO_ROOT, 'deploy', 'grafana', 'dashboards', 'json'),
    sourceDir: join(REPO_ROOT, 'ui'),
    assetsDir: join(REPO_ROOT, 'ui', 'dist'),
    searchLimit: 50,
    prometheusTimeoutMs: 15_000,
  };
}
