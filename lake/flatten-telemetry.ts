/**
 * Raw OTLP JSON logs, metrics and traces (as the Collector's awss3 exporter writes them) to curated rows: one row per
 * log record, per metric data point, per span. The Go Collector's OTLP JSON writes enums as numbers, int64 as strings
 * and IDs as hex; attribute values of any type land in a string map (non-strings as JSON), so SQL reads
 * `attributes['http.route']` whatever the producer sent.
 */
import {
  asString,
  contentId,
  decodeAnyValue,
  decodeKeyValues,
  type OtlpAnyValue,
  type OtlpKeyValue,
  type OtlpLogsDocument,
} from './otlp.ts';
import { partitionValue } from './partition.ts';

type Resource = { attributes?: OtlpKeyValue[] };
type Scope = { name?: string };
type Nanos = string | number | undefined;

interface OtlpNumberPoint {
  attributes?: OtlpKeyValue[];
  startTimeUnixNano?: Nanos;
  timeUnixNano?: Nanos;
  asInt?: string | number;
  asDouble?: number | string;
}
interface OtlpHistogramPoint extends OtlpNumberPoint {
  count?: string | number;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: (string | number)[];
  explicitBounds?: number[];
}
interface OtlpMetric {
  name: string;
  unit?: string;
  gauge?: { dataPoints?: OtlpNumberPoint[] };
  sum?: { dataPoints?: OtlpNumberPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
  histogram?: { dataPoints?: OtlpHistogramPoint[]; aggregationTemporality?: number };
  exponentialHistogram?: { dataPoints?: OtlpHistogramPoint[]; aggregationTemporality?: number };
  summary?: { dataPoints?: OtlpHistogramPoint[] };
}
export interface OtlpMetricsDocument {
  resourceMetrics?: { resource?: Resource; scopeMetrics?: { scope?: Scope; metrics?: OtlpMetric[] }[] }[];
}

interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number | string;
  startTimeUnixNano?: Nanos;
  endTimeUnixNano?: Nanos;
  attributes?: OtlpKeyValue[];
  events?: { timeUnixNano?: Nanos; name?: string; attributes?: OtlpKeyValue[] }[];
  links?: { traceId?: string; spanId?: string; attributes?: OtlpKeyValue[] }[];
  status?: { code?: number | string; message?: string };
}
export interface OtlpTracesDocument {
  resourceSpans?: { resource?: Resource; scopeSpans?: { scope?: Scope; spans?: OtlpSpan[] }[] }[];
}

export type Row = Record<string, unknown>;

export function flattenLogs(document: OtlpLogsDocument): Row[] {
  const rows: Row[] = [];
  for (const resourceLogs of document.resourceLogs ?? []) {
    const resource = decodeKeyValues(resourceLogs.resource?.attributes);
    const resourceMap = stringMap(resource);
    for (const scopeLogs of resourceLogs.scopeLogs ?? []) {
      for (const record of scopeLogs.logRecords ?? []) {
        // Business events have their own table; a raw/logs/ object should not hold any, but a shared prefix could.
        if (record.eventName) continue;
        const time = timestamp(record.timeUnixNano) ?? timestamp(record.observedTimeUnixNano) ?? EPOCH;
        const body = decodeAnyValue(record.body);
        rows.push({
          log_id: contentId(record, resource),
          time,
          observed_time: timestamp(record.observedTimeUnixNano),
          dt: time.slice(0, 10),
          trace_id: asString(record.traceId),
          span_id: asString(record.spanId),
          service_name: asString(resource['service.name']),
          severity_text: asString(record.severityText),
          severity_number: record.severityNumber ?? null,
          body: body === null ? null : typeof body === 'string' ? body : JSON.stringify(body),
          attributes: stringMap(decodeKeyValues(record.attributes)),
          resource: resourceMap,
          scope_name: asString(scopeLogs.scope?.name),
        });
      }
    }
  }
  return rows;
}

/** The number of records in a logs document, events included: what the compaction reports as read. */
export function countLogRecords(document: OtlpLogsDocument): number {
  let n = 0;
  for (const r of document.resourceLogs ?? [])
    for (const s of r.scopeLogs ?? []) n += s.logRecords?.length ?? 0;
  return n;
}

const TEMPORALITY: Record<number, string> = { 1: 'delta', 2: 'cumulative' };

export function flattenMetrics(document: OtlpMetricsDocument): Row[] {
  const rows: Row[] = [];
  for (const resourceMetrics of document.resourceMetrics ?? []) {
    const resource = decodeKeyValues(resourceMetrics.resource?.attributes);
    const base = {
      service_name: asString(resource['service.name']),
      resource: stringMap(resource),
    };
    for (const scopeMetrics of resourceMetrics.scopeMetrics ?? []) {
      const scope = asString(scopeMetrics.scope?.name);
      for (const metric of scopeMetrics.metrics ?? []) {
        const data =
          metric.gauge ?? metric.sum ?? metric.histogram ?? metric.exponentialHistogram ?? metric.summary;
        const type = metric.gauge
          ? 'gauge'
          : metric.sum
            ? 'sum'
            : metric.histogram
              ? 'histogram'
              : metric.exponentialHistogram
                ? 'exponential_histogram'
                : 'summary';
        const temporality =
          'aggregationTemporality' in (data ?? {})
            ? (TEMPORALITY[Number((data as { aggregationTemporality?: number }).aggregationTemporality)] ??
              null)
            : null;
        for (const point of (data?.dataPoints ?? []) as OtlpHistogramPoint[]) {
          const attributes = decodeKeyValues(point.attributes);
          const time = timestamp(point.timeUnixNano) ?? EPOCH;
          rows.push({
            point_id: contentId([metric.name, scope, point], resource),
            metric_name: partitionValue(metric.name),
            dt: time.slice(0, 10),
            metric_type: type,
            unit: asString(metric.unit),
            temporality,
            is_monotonic: metric.sum ? metric.sum.isMonotonic === true : null,
            ...base,
            scope_name: scope,
            attributes: stringMap(attributes),
            start_time: timestamp(point.startTimeUnixNano),
            time,
            value: numberOrNull(point.asDouble ?? point.asInt),
            count: numberOrNull(point.count),
            sum: numberOrNull(point.sum),
            min: numberOrNull(point.min),
            max: numberOrNull(point.max),
            bucket_bounds: type === 'histogram' ? (point.explicitBounds ?? []).map(Number) : null,
            bucket_counts: type === 'histogram' ? (point.bucketCounts ?? []).map(Number) : null,
          });
        }
      }
    }
  }
  return rows;
}

/** The number of data points in a metrics document. */
export function countDataPoints(document: OtlpMetricsDocument): number {
  let n = 0;
  for (const r of document.resourceMetrics ?? []) {
    for (const s of r.scopeMetrics ?? []) {
      for (const m of s.metrics ?? []) {
        const data = m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary;
        n += data?.dataPoints?.length ?? 0;
      }
    }
  }
  return n;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS = ['unset', 'ok', 'error'];

export function flattenSpans(document: OtlpTracesDocument): Row[] {
  const rows: Row[] = [];
  for (const resourceSpans of document.resourceSpans ?? []) {
    const resource = decodeKeyValues(resourceSpans.resource?.attributes);
    const resourceMap = stringMap(resource);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const start = timestamp(span.startTimeUnixNano) ?? EPOCH;
        rows.push({
          trace_id: (span.traceId ?? '').toLowerCase(),
          span_id: (span.spanId ?? '').toLowerCase(),
          parent_span_id: asString(span.parentSpanId?.toLowerCase()),
          dt: start.slice(0, 10),
          service_name: asString(resource['service.name']),
          name: span.name ?? '',
          kind: enumName(KINDS, span.kind, 'SPAN_KIND_'),
          start_time: start,
          end_time: timestamp(span.endTimeUnixNano),
          duration_ms: durationMs(span.startTimeUnixNano, span.endTimeUnixNano),
          status_code: enumName(STATUS, span.status?.code, 'STATUS_CODE_'),
          status_message: asString(span.status?.message),
          attributes: stringMap(decodeKeyValues(span.attributes)),
          resource: resourceMap,
          scope_name: asString(scopeSpans.scope?.name),
          events: JSON.stringify(
            (span.events ?? []).map((e) => ({
              name: e.name ?? '',
              time: timestamp(e.timeUnixNano),
              attributes: decodeKeyValues(e.attributes),
            })),
          ),
          links: JSON.stringify(
            (span.links ?? []).map((l) => ({
              trace_id: l.traceId ?? '',
              span_id: l.spanId ?? '',
              attributes: decodeKeyValues(l.attributes),
            })),
          ),
        });
      }
    }
  }
  return rows;
}

/** The number of spans in a traces document. */
export function countSpans(document: OtlpTracesDocument): number {
  let n = 0;
  for (const r of document.resourceSpans ?? []) for (const s of r.scopeSpans ?? []) n += s.spans?.length ?? 0;
  return n;
}

const EPOCH = '1970-01-01 00:00:00';

/** `YYYY-MM-DD HH:MM:SS.ffffff` (UTC, microseconds: DuckDB's TIMESTAMP) of a nanosecond count; null when unset. */
export function timestamp(nanos: Nanos): string | null {
  if (nanos === undefined || nanos === null || nanos === '' || String(nanos) === '0') return null;
  let n: bigint;
  try {
    n = BigInt(String(nanos));
  } catch {
    return null;
  }
  const micros = n / 1000n;
  const ms = Number(micros / 1000n);
  // Out of Date's range (a producer's garbage): no time rather than an exception that fails the whole object.
  if (Number.isNaN(new Date(ms).getTime()) || micros < 0n) return null;
  const rest = String(micros % 1000n).padStart(3, '0');
  return `${new Date(ms).toISOString().slice(0, 23).replace('T', ' ')}${rest}`;
}

function durationMs(start: Nanos, end: Nanos): number | null {
  if (start === undefined || end === undefined) return null;
  try {
    return Number(BigInt(String(end)) - BigInt(String(start))) / 1e6;
  } catch {
    return null;
  }
}

function numberOrNull(value: unknown): number | null {
  if (value === undefined || value === null || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Enum values arrive as numbers (OTLP JSON) or as names (`SPAN_KIND_SERVER`) from other producers. */
function enumName(names: string[], value: number | string | undefined, prefix: string): string {
  if (value === undefined || value === null) return names[0]!;
  if (typeof value === 'number' || /^\d+$/.test(value)) return names[Number(value)] ?? String(value);
  return value.replace(prefix, '').toLowerCase();
}

/** Attribute values as strings (non-strings as JSON): one map type for every producer. */
function stringMap(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

export type { OtlpAnyValue };
