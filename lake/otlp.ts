/**
 * OTLP JSON as the Collector's awss3 exporter writes it, decoded: any-values, key-value lists, times and content IDs.
 * The quirks: int64 values arrive as strings, attribute value types vary between records, IDs are hex strings (empty
 * when there was no active span). Kept apart from the event registry (flatten.ts) so that the staging worker of logs,
 * metrics and spans does not load it (≈ 25 MB per thread).
 */
import { createHash } from 'node:crypto';

export interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number | string;
  boolValue?: boolean;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}
export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
export interface OtlpLogRecord {
  timeUnixNano?: string | number;
  observedTimeUnixNano?: string | number;
  severityText?: string;
  severityNumber?: number;
  eventName?: string;
  body?: OtlpAnyValue;
  attributes?: OtlpKeyValue[];
  traceId?: string;
  spanId?: string;
}
export interface OtlpLogsDocument {
  resourceLogs?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeLogs?: { scope?: { name?: string }; logRecords?: OtlpLogRecord[] }[];
  }[];
}

export function decodeAnyValue(value: OtlpAnyValue | undefined): unknown {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) {
    const n = Number(value.intValue);
    return Number.isSafeInteger(n) ? n : String(value.intValue);
  }
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(decodeAnyValue);
  if (value.kvlistValue !== undefined) return decodeKeyValues(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}

export function decodeKeyValues(values: OtlpKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of values ?? []) out[kv.key] = decodeAnyValue(kv.value);
  return out;
}

export const asString = (value: unknown): string | null =>
  value === null || value === undefined || value === '' ? null : String(value);

/** ISO-8601 UTC of the first usable nanosecond time; the epoch when neither is (missing, zero, out of range). */
export function contentTime(...candidates: (string | number | undefined)[]): string {
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === null || String(candidate) === '0') continue;
    try {
      const ms = Number(BigInt(String(candidate)) / 1_000_000n);
      if (Number.isFinite(ms)) return new Date(ms).toISOString();
    } catch {
      // Not an integer, or out of Date's range: try the next candidate.
    }
  }
  return new Date(0).toISOString();
}

export function contentId(record: unknown, resource: Record<string, unknown>): string {
  const hex = createHash('sha256')
    .update(JSON.stringify([record, resource]))
    .digest('hex');
  // Shaped as a UUID (version 8, "custom") so the column holds one kind of value.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
