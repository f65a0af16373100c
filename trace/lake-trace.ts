/**
 * A trace from the lake (curated/spans/), shaped as Jaeger's API returns it, for when Jaeger no longer has it:
 * evicted, older than its retention, or its store was reset. The rest of `observatory trace` (the tree, the critical
 * path, the logs and events found by the trace's time range) works on it unchanged.
 */
import { queryLake, type JsonValue } from '../lake/index.ts';
import type { TraceConfig } from './config.ts';
import type { JaegerSpan, JaegerTag, JaegerTrace } from './jaeger-client.ts';

interface SpanEvent {
  name: string;
  time: string | null;
  attributes: Record<string, unknown>;
}

/** The trace's spans from the lake, or undefined when the lake has none. `traceId`: 32 validated hex digits. */
export async function lakeTrace(traceId: string, config: TraceConfig): Promise<JaegerTrace | undefined> {
  const result = await queryLake(
    `SELECT span_id, parent_span_id, service_name, name, kind, epoch_us(start_time) AS start_us, duration_ms,
            status_code, status_message, attributes, resource, events
       FROM spans WHERE trace_id = '${traceId}' ORDER BY start_time`,
    { config: config.lake, tables: ['spans'] },
  );
  if (result.rows.length === 0) return undefined;
  const processes: JaegerTrace['processes'] = {};
  const spans: JaegerSpan[] = result.rows.map((row) => {
    const service = String(row.service_name ?? 'unknown');
    processes[service] ??= { serviceName: service, tags: tags(row.resource) };
    const status = String(row.status_code ?? 'unset');
    const extra: JaegerTag[] = [
      { key: 'span.kind', value: String(row.kind ?? 'internal') },
      { key: 'otel.status_code', value: status.toUpperCase() },
      ...(status === 'error' ? [{ key: 'error', value: true }] : []),
      ...(row.status_message ? [{ key: 'otel.status_description', value: row.status_message }] : []),
    ];
    return {
      traceID: traceId,
      spanID: String(row.span_id),
      operationName: String(row.name),
      references: row.parent_span_id
        ? [{ refType: 'CHILD_OF', traceID: traceId, spanID: String(row.parent_span_id) }]
        : [],
      startTime: Number(row.start_us),
      duration: Math.round(Number(row.duration_ms ?? 0) * 1000),
      tags: [...tags(row.attributes), ...extra],
      logs: spanEvents(row.events).map((event) => ({
        timestamp: event.time ? Date.parse(`${event.time.replace(' ', 'T')}Z`) * 1000 : Number(row.start_us),
        fields: [
          { key: 'event', value: event.name },
          ...Object.entries(event.attributes).map(([key, value]) => ({ key, value })),
        ],
      })),
      processID: service,
    };
  });
  return { traceID: traceId, spans, processes };
}

/** A process's whole resource as the lake keeps it, one per distinct resource among the trace's spans. */
export interface LakeResource {
  service: string;
  attributes: Record<string, unknown>;
}

/**
 * The distinct resources of the trace's spans in the lake (empty when it has not been compacted yet): the whole
 * resource, where Jaeger keeps all but the repeated process attributes.
 */
export async function lakeResources(traceId: string, config: TraceConfig): Promise<LakeResource[]> {
  const result = await queryLake(
    `SELECT DISTINCT service_name, CAST(resource AS JSON) AS resource FROM spans WHERE trace_id = '${traceId}'`,
    { config: config.lake, tables: ['spans'] },
  );
  return result.rows.map((row) => ({
    service: String(row.service_name ?? 'unknown'),
    attributes: Object.fromEntries(tags(parsed(row.resource)).map((t) => [t.key, t.value])),
  }));
}

/** A JSON column may arrive as text. */
function parsed(value: JsonValue | undefined): JsonValue | undefined {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as JsonValue;
  } catch {
    return undefined;
  }
}

/** Map values are strings in the lake (non-strings as JSON): numbers and booleans read back as such. */
function tags(map: JsonValue | undefined): JaegerTag[] {
  if (!map || typeof map !== 'object' || Array.isArray(map)) return [];
  return Object.entries(map).map(([key, value]) => ({ key, value: scalar(value) }));
}

function scalar(value: JsonValue): unknown {
  if (typeof value !== 'string') return value;
  if (/^-?\d+(\.\d+)?$/.test(value) || value === 'true' || value === 'false') return JSON.parse(value);
  return value;
}

function spanEvents(value: JsonValue | undefined): SpanEvent[] {
  if (typeof value !== 'string') return [];
  try {
    return JSON.parse(value) as SpanEvent[];
  } catch {
    return [];
  }
}
