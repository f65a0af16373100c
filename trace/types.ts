/** The `--json` document of `observatory trace`: one request's trace, logs and events, for other tools. */

export type SpanStatus = 'ok' | 'error' | 'unset';

export interface SpanException {
  type: string | null;
  message: string | null;
  /** `exception.stacktrace`, when the span recorded one. */
  stacktrace: string | null;
}

export interface SpanNode {
  span_id: string;
  /** The CHILD_OF parent; null for a root. A parent that has not arrived leaves the span at the top level. */
  parent_span_id: string | null;
  service: string;
  name: string;
  /** server, client, producer, consumer or internal. */
  kind: string;
  /** UTC, ISO 8601. */
  start_time: string;
  /** Milliseconds from the trace's first span. */
  start_offset_ms: number;
  duration_ms: number;
  status: SpanStatus;
  /** The status description, when the span set one. */
  status_message: string | null;
  exceptions: SpanException[];
  /** The attributes worth seeing inline (route, status code, cold start, chunk, attempt, RPC method…). */
  key_attributes: Record<string, unknown>;
  /** Every span attribute. */
  attributes: Record<string, unknown>;
  /** On the critical path: the request waited on this span for critical_ms. */
  critical: boolean;
  critical_ms: number;
  /** For an ETL chunk's producer span: its invocations, one per attempt (they are also its children). */
  attempts: { span_id: string; attempt: number | null; status: SpanStatus }[] | null;
  children: SpanNode[];
}

export interface LogEntry {
  /** UTC, ISO 8601. */
  time: string;
  service: string | null;
  severity: string;
  body: unknown;
  attributes: Record<string, unknown>;
  span_id: string | null;
  /** Whether span_id names a span of this trace (it is then shown under that span). */
  placed: boolean;
}

export interface EventEntry {
  /** The dedup key (`event.id`). */
  event_id: string;
  event_name: string;
  /** UTC, ISO 8601. */
  time: string;
  service: string | null;
  schema_version: string | null;
  properties: unknown;
  /** Set when the event was rejected by its schema (the rejected table or `event.rejected_reason`). */
  rejected_reason: string | null;
  span_id: string | null;
  placed: boolean;
  /** curated: read from the lake (compacted); raw: from raw/events/, not compacted yet. */
  source: 'curated' | 'raw';
}

export interface EtlJobSummary {
  job_id: string | null;
  kind: string | null;
  status: string | null;
  chunk_count: number;
  invocations: number;
  /** Chunks that needed more than one invocation. */
  retried_chunks: number;
  failed_invocations: number;
  cold_starts: number;
  cost_usd: number | null;
  billed_gb_seconds: number | null;
}

export interface CriticalStep {
  span_id: string;
  service: string;
  name: string;
  /** The time the request waited on this span itself (not on its children). */
  self_ms: number;
}

export interface TraceSummary {
  services: string[];
  span_count: number;
  /** UTC, ISO 8601: the first span's start and the last span's end. */
  start_time: string;
  end_time: string;
  /** From the first span's start to the last span's end. */
  duration_ms: number;
  error_count: number;
  /** In the order the request went through them. */
  critical_path: CriticalStep[];
  log_count: number;
  event_count: number;
  etl_jobs: EtlJobSummary[];
  /** Things to know about this view: spans whose parent has not arrived, a store that could not be read… */
  notes: string[];
}

/** One process of the trace (a service instance): its resource. */
export interface ProcessEntry {
  service: string;
  /**
   * Its resource attributes: the whole resource from the lake (curated/spans/), where the Collector keeps it; until
   * the trace is compacted, what Jaeger keeps (all but the repeated process attributes the Collector drops on the
   * Jaeger path: collector-config/local.yaml, resource/jaeger).
   */
  attributes: Record<string, unknown>;
  source: 'jaeger' | 'lake';
}

export interface TraceDocument {
  trace_id: string;
  spans: SpanNode[];
  /** The processes its spans came from, by service name. */
  processes: ProcessEntry[];
  /** Time-ordered; each names its span. */
  logs: LogEntry[];
  events: EventEntry[];
  summary: TraceSummary;
}

/** One line of `trace --last --json` (and of the console's traces page). */
export interface TraceListing {
  trace_id: string;
  start_time: string;
  duration_ms: number;
  span_count: number;
  error: boolean;
  root_service: string;
  root_operation: string;
}
