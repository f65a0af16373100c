/**
 * The console's JSON API. Everything is read here, on the server: Jaeger, Prometheus and the S3 store keep their
 * own CORS settings and are never called from the browser. Each failure is mapped to a status and a sentence. Lake
 * queries share one bounded DuckDB (lake/engine.ts) and end when their time limit passes or their client leaves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LakeEngine, ReadOnlySqlError, TABLE_NAMES } from '../lake/index.ts';
import {
  applicationServices,
  buildTraceDocument,
  compareTraces,
  JaegerClient,
  JaegerUnreachableError,
  listingOf,
  parseTraceId,
  TraceIdError,
  type JaegerTrace,
  type TraceDocument,
} from '../trace/index.ts';
import type { UiConfig } from './config.ts';
import { checkLakeSql, LakeSqlError } from './lake-sql.ts';
import { serviceMap } from './service-map.ts';

export interface ApiResponse {
  status: number;
  /** JSON-encoded unless it is already a string of JSON from a backend (then `raw`). */
  body: unknown;
  raw?: boolean;
}

/** An answer that is not 200: the status and the sentence the page shows. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Only these Prometheus endpoints are proxied: GETs that read. */
const PROMETHEUS_PATHS =
  /^\/api\/v1\/(query|query_range|series|labels|query_exemplars|label\/[\w.]+\/values)$/;
const LOOKBACKS: Record<string, number> = {
  '5m': 5 * 60_000,
  '15m': 15 * 60_000,
  '1h': 60 * 60_000,
  '3h': 3 * 60 * 60_000,
  '12h': 12 * 60 * 60_000,
  '1d': 24 * 60 * 60_000,
};

export class Api {
  private readonly config: UiConfig;
  private readonly jaeger: JaegerClient;
  private readonly lakeEngine: LakeEngine;

  constructor(config: UiConfig) {
    this.config = config;
    this.jaeger = new JaegerClient(config.trace.jaegerUrl, config.trace.requestTimeoutMs);
    this.lakeEngine = new LakeEngine({
      config: config.trace.lake,
      memoryMb: config.lake.memoryMb,
      threads: config.lake.threads,
    });
  }

  /** `gone`: aborted when the client leaves; what the request started stops. */
  async handle(
    method: string,
    url: URL,
    body: () => Promise<string>,
    gone: AbortSignal = new AbortController().signal,
  ): Promise<ApiResponse> {
    try {
      return await this.route(method, url, body, gone);
    } catch (error) {
      if (error instanceof ApiError) return { status: error.status, body: { error: error.message } };
      if (error instanceof JaegerUnreachableError) {
        return {
          status: 502,
          body: { error: `${error.message} — is the stack up? (npx observatory stack status)` },
        };
      }
      return { status: 500, body: { error: (error as Error).message } };
    }
  }

  close(): Promise<void> {
    return this.lakeEngine.close();
  }

  private async route(
    method: string,
    url: URL,
    body: () => Promise<string>,
    gone: AbortSignal,
  ): Promise<ApiResponse> {
    const path = url.pathname;
    const get = method === 'GET';
    if (get && path === '/api/traces') return ok(await this.traces(url.searchParams));
    if (get && path.startsWith('/api/traces/')) {
      const signals = url.searchParams.get('signals') !== '0';
      return ok(await this.trace(decodeURIComponent(path.slice('/api/traces/'.length)), signals));
    }
    if (get && path.startsWith('/api/compare/')) {
      const ids = path.slice('/api/compare/'.length).split('/').map(decodeURIComponent);
      if (ids.length !== 2)
        throw new ApiError(400, 'compare takes two traces: /api/compare/<trace a>/<trace b>');
      return ok(await this.compare(ids[0]!, ids[1]!));
    }
    if (get && path === '/api/services') return ok(await this.services(url.searchParams.get('service')));
    if (get && path === '/api/service-map') return ok(await serviceMap(this.config, this.jaeger));
    if (get && path === '/api/dashboards') return ok(this.dashboards().map(summary));
    if (get && path.startsWith('/api/dashboards/')) {
      const uid = decodeURIComponent(path.slice('/api/dashboards/'.length));
      const found = this.dashboards().find((d) => d.uid === uid);
      if (!found) throw new ApiError(404, `no dashboard with uid ${JSON.stringify(uid)}`);
      return ok(found);
    }
    if (path.startsWith('/api/prometheus/')) {
      if (!get) throw new ApiError(405, 'the Prometheus proxy only reads (GET)');
      return this.prometheus(path.slice('/api/prometheus'.length), url.search);
    }
    if (path === '/api/lake/query') {
      if (method !== 'POST') throw new ApiError(405, 'POST {"sql": "SELECT …"} to query the lake');
      return ok(await this.lake(await body(), gone));
    }
    if (get && path === '/api/lake/status') return ok(this.lakeStatus());
    if (get && path === '/api/lake/tables') return ok(await this.lakeTables(gone));
    throw new ApiError(404, `no API at ${path}`);
  }

  /** Two traces aligned by service and operation (trace/analysis.ts), spans only: no logs or events are compared. */
  private async compare(a: string, b: string): Promise<unknown> {
    const [left, right] = await Promise.all([this.trace(a, false), this.trace(b, false)]);
    return compareTraces(left, right);
  }

  /** The `trace --json` document; without signals, spans only (Jaeger answers fast, the S3 store less so). */
  private async trace(input: string, signals: boolean): Promise<TraceDocument> {
    let traceId: string;
    try {
      traceId = parseTraceId(input);
    } catch (error) {
      if (error instanceof TraceIdError) throw new ApiError(400, error.message);
      throw error;
    }
    const lookup = await buildTraceDocument(traceId, {
      config: this.config.trace,
      jaeger: this.jaeger,
      signals,
    });
    if (!lookup.found) {
      throw new ApiError(
        404,
        `trace ${traceId} not found — neither Jaeger (it keeps the newest OBSERVATORY_JAEGER_MAX_TRACES traces) nor the ` +
          "lake's curated spans have it; one sent in the last few seconds may not have arrived yet.",
      );
    }
    return lookup.document;
  }

  private async services(service: string | null): Promise<{ services: string[]; operations: string[] }> {
    const services = applicationServices(await this.jaeger.services());
    const operations = service ? await this.jaeger.operations(service) : [];
    return { services, operations };
  }

  private async traces(params: URLSearchParams): Promise<unknown> {
    const service = params.get('service') || undefined;
    const operation = params.get('operation') || undefined;
    const errors = params.get('errors') === '1' || params.get('errors') === 'true';
    const lookback = params.get('lookback') || '1h';
    const lookbackMs = LOOKBACKS[lookback];
    if (lookbackMs === undefined) {
      throw new ApiError(400, `lookback takes one of ${Object.keys(LOOKBACKS).join(', ')} (got ${lookback})`);
    }
    const minDuration = params.get('minDuration') || undefined;
    if (minDuration !== undefined && !/^\d+(\.\d+)?(us|ms|s|m)$/.test(minDuration)) {
      throw new ApiError(
        400,
        `minDuration takes a number and a unit, e.g. 250ms or 1.5s (got ${minDuration})`,
      );
    }
    const limit = Number(params.get('limit') ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      throw new ApiError(400, `limit takes a whole number from 1 to 500 (got ${params.get('limit')})`);
    }
    const tags: Record<string, string> = {};
    for (const pair of params.getAll('tag').filter((t) => t.trim() !== '')) {
      const at = pair.indexOf('=');
      if (at <= 0)
        throw new ApiError(400, `an attribute filter takes key=value (got ${JSON.stringify(pair)})`);
      tags[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
    }
    const end = Date.now() * 1000;
    const services = service ? [service] : applicationServices(await this.jaeger.services());
    const found = new Map<string, JaegerTrace>();
    await Promise.all(
      services.map(async (name) => {
        const traces = await this.jaeger.search({
          service: name,
          operation: service ? operation : undefined,
          // Jaeger 2.13's memory store does not match span status through the `error` tag: errors are picked
          // here, among each service's newest traces.
          limit: errors ? Math.max(limit, this.config.trace.errorScanLimit) : limit,
          lookback,
          start: end - lookbackMs * 1000,
          end,
          minDuration,
          tags: Object.keys(tags).length > 0 ? tags : undefined,
        });
        for (const trace of traces) found.set(trace.traceID, trace);
      }),
    );
    return [...found.values()]
      .map(listingOf)
      .filter((t) => !errors || t.error)
      .sort((a, b) => b.start_time.localeCompare(a.start_time) || a.trace_id.localeCompare(b.trace_id))
      .slice(0, limit);
  }

  private dashboards(): { uid: string; title: string; [key: string]: unknown }[] {
    return readdirSync(this.config.dashboardsDir)
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => JSON.parse(readFileSync(join(this.config.dashboardsDir, file), 'utf8')));
  }

  private async prometheus(path: string, search: string): Promise<ApiResponse> {
    if (!PROMETHEUS_PATHS.test(path)) {
      throw new ApiError(
        403,
        `the Prometheus proxy serves query, query_range, series, labels, label values and query_exemplars, not ${path}`,
      );
    }
    let response: Response;
    try {
      response = await fetch(`${this.config.prometheusUrl}${path}${search}`, {
        signal: AbortSignal.timeout(this.config.prometheusTimeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: Error }).cause ?? (error as Error);
      throw new ApiError(
        502,
        `Prometheus unreachable at ${this.config.prometheusUrl}: ${cause.message} — is the stack up?`,
      );
    }
    return { status: response.status, body: await response.text(), raw: true };
  }

  private async lake(text: string, gone: AbortSignal): Promise<unknown> {
    const sql = lakeSql(text);
    const limits = this.config.lake;
    const timeout = AbortSignal.timeout(limits.timeoutMs);
    const started = Date.now();
    try {
      const result = await this.lakeEngine.query(sql, {
        maxRows: limits.maxRows,
        signal: AbortSignal.any([gone, timeout]),
      });
      return {
        ...result,
        row_count: result.rows.length,
        max_rows: limits.maxRows,
        elapsed_ms: Date.now() - started,
      };
    } catch (error) {
      if (timeout.aborted && !gone.aborted) {
        throw new ApiError(
          504,
          `the query ran longer than ${limits.timeoutMs / 1000} s and was stopped ` +
            '(OBSERVATORY_UI_LAKE_TIMEOUT_MS); narrow it with WHERE, or aggregate',
        );
      }
      if (gone.aborted) throw new ApiError(499, 'the client left before the answer');
      if (error instanceof ReadOnlySqlError) throw new ApiError(400, error.message);
      // DuckDB's own message (syntax, unknown column, refused file access, out of memory) is what the user needs.
      throw new ApiError(400, error instanceof Error ? error.message : String(error));
    }
  }

  /**
   * Every table of the lake with its columns and types, as DuckDB's catalog has them once the views are defined (the
   * views carry every column even before a file exists): what the lake page lists, never a hand-kept copy.
   */
  private async lakeTables(gone: AbortSignal): Promise<unknown> {
    const names = TABLE_NAMES.map((t) => `'${t}'`).join(', ');
    const result = await this.lakeEngine.query(
      'SELECT table_name, column_name, data_type FROM information_schema.columns ' +
        `WHERE table_schema = 'main' AND table_name IN (${names}) ORDER BY table_name, ordinal_position`,
      { maxRows: 10_000, signal: AbortSignal.any([gone, AbortSignal.timeout(this.config.lake.timeoutMs)]) },
    );
    const tables = new Map<string, { name: string; type: string }[]>(TABLE_NAMES.map((t) => [t, []]));
    for (const row of result.rows) {
      tables
        .get(String(row.table_name))
        ?.push({ name: String(row.column_name), type: String(row.data_type) });
    }
    return { tables: [...tables].map(([name, columns]) => ({ name, columns })) };
  }

  /** The lake page's limits, and what the shared engine is doing (`running` 0 once a query was stopped). */
  private lakeStatus(): unknown {
    const limits = this.config.lake;
    return {
      ...this.lakeEngine.status(),
      max_rows: limits.maxRows,
      timeout_ms: limits.timeoutMs,
      memory_mb: limits.memoryMb,
      threads: limits.threads,
    };
  }
}

/** The SQL of a `{"sql": "…"}` body, through the word gate; a 400 saying why otherwise. */
function lakeSql(text: string): string {
  try {
    const parsed = JSON.parse(text) as { sql?: unknown };
    if (typeof parsed.sql !== 'string') throw new Error('no sql');
    return checkLakeSql(parsed.sql);
  } catch (error) {
    if (error instanceof LakeSqlError) throw new ApiError(400, error.message);
    throw new ApiError(400, 'the body must be JSON {"sql": "SELECT …"}');
  }
}

const ok = (body: unknown): ApiResponse => ({ status: 200, body });

function summary(dashboard: { uid: string; title: string; [key: string]: unknown }) {
  const panels = (dashboard.panels as { type: string }[] | undefined) ?? [];
  return {
    uid: dashboard.uid,
    title: dashboard.title,
    description: dashboard.description ?? '',
    tags: dashboard.tags ?? [],
    panel_count: panels.filter((p) => p.type !== 'row').length,
  };
}
