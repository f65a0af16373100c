/**
 * Every default of `observatory ui` in one place, read when called: where it listens (loopback only), where the
 * backends it reads are (the local stack's, common/config.ts), where its front end and dashboards live, and the
 * bounds of the lake page's queries.
 */
import { join } from 'node:path';
import { readInteger, readPort, type Env } from '../common/env.ts';
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
  /** The lake page's SQL: one DuckDB shared by every query of the console (lake/engine.ts). */
  lake: LakeQueryLimits;
}

export interface LakeQueryLimits {
  /** Rows a query answers with at most; it stops reading there and says the result was truncated. @default 5000 */
  maxRows: number;
  /** A query still running after this long (waiting its turn included) is interrupted: 504. @default 30000 */
  timeoutMs: number;
  /** DuckDB's memory limit for the console's queries, in MiB; a query needing more fails or spills. @default 512 */
  memoryMb: number;
  /** DuckDB's threads for the console's queries. @default 1 */
  threads: number;
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
    lake: {
      maxRows: 5000,
      timeoutMs: readInteger(env, 'OBSERVATORY_UI_LAKE_TIMEOUT_MS', 30_000, { min: 100, max: 3_600_000 }),
      memoryMb: readInteger(env, 'OBSERVATORY_UI_LAKE_MEMORY_MB', 512, { min: 64, max: 65_536 }),
      threads: readInteger(env, 'OBSERVATORY_UI_LAKE_THREADS', 1, { min: 1, max: 64 }),
    },
  };
}
