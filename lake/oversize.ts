/**
 * Records over the lake's size limit, taken out of a raw document before it is flattened: each becomes a rejected
 * row with reason `too_large`, keeping its identity (IDs, time, service) and the start of its content, instead of a
 * row that would be copied several times over while flattened, staged and loaded (one 17 MiB record killed the
 * staging worker) and would break the row-group bound. Sizes are estimated by walking the parsed record, stopping as
 * soon as the limit is passed, so the estimate never costs more than the limit.
 */
import { createHash, type Hash } from 'node:crypto';
import { EVENT_ATTRIBUTES } from '../common/names.ts';
import type { LakeSignal } from './config.ts';
import type { RejectedRow } from './flatten.ts';
import { asString, contentTime, decodeKeyValues, type OtlpKeyValue, type OtlpLogsDocument } from './otlp.ts';
import type { OtlpMetricsDocument, OtlpTracesDocument } from './flatten-telemetry.ts';

export const TOO_LARGE = 'too_large';
/** The payload kept of a too-large record: its JSON with long strings and lists cut, at most this many characters. */
const PAYLOAD_CHARS = 4096;
const PREVIEW_STRING_CHARS = 512;
const PREVIEW_LIST_ITEMS = 32;

/** A record of any signal, as much of it as the rejected row needs. */
interface AnyRecord {
  eventName?: string;
  name?: string;
  timeUnixNano?: string | number;
  startTimeUnixNano?: string | number;
  observedTimeUnixNano?: string | number;
  traceId?: string;
  spanId?: string;
  attributes?: OtlpKeyValue[];
}
type Resource = { attributes?: OtlpKeyValue[] } | undefined;

/**
 * Removes the records over `maxBytes` (estimated JSON size) from the document, in place; returns their rejected rows.
 */
export function takeOversized(signal: LakeSignal, document: unknown, maxBytes: number): RejectedRow[] {
  const rows: RejectedRow[] = [];
  const keep = (records: AnyRecord[] | undefined, resource: Resource, kind: string, name?: string) =>
    records?.filter((record) => {
      const bytes = jsonBytesBeyond(record, maxBytes);
      if (bytes <= maxBytes) return true;
      rows.push(tooLargeRow(record, resource, kind, name, maxBytes));
      return false;
    });
  if (signal === 'events' || signal === 'logs') {
    for (const r of (document as OtlpLogsDocument).resourceLogs ?? [])
      for (const s of r.scopeLogs ?? []) s.logRecords = keep(s.logRecords, r.resource, 'log record');
  } else if (signal === 'traces') {
    for (const r of (document as OtlpTracesDocument).resourceSpans ?? [])
      for (const s of r.scopeSpans ?? []) s.spans = keep(s.spans, r.resource, 'span') as typeof s.spans;
  } else {
    for (const r of (document as OtlpMetricsDocument).resourceMetrics ?? [])
      for (const s of r.scopeMetrics ?? [])
        for (const m of s.metrics ?? []) {
          for (const data of [m.gauge, m.sum, m.histogram, m.exponentialHistogram, m.summary]) {
            if (data)
              data.dataPoints = keep(
                data.dataPoints,
                r.resource,
                'data point',
                m.name,
              ) as typeof data.dataPoints;
          }
        }
  }
  return rows;
}

/** What a string elided by elideLongStrings starts with once parsed: NUL, then `elided:<bytes>:<hash>`. */
const ELIDED = '\u0000elided:';

/** The first 32 hex digits of the SHA-256 of an elided string's bytes: its identity in the placeholder. */
const elidedHash = (bytes: Uint8Array): string =>
  createHash('sha256').update(bytes).digest('hex').slice(0, 32);

/**
 * The placeholder of a string too long to keep, from its UTF-8 bytes: what elideLongStrings leaves in JSON text once
 * parsed, for readers that meet the string as bytes (OTLP protobuf, lake/otlp-proto.ts).
 */
export function elidedString(bytes: Uint8Array): string {
  return `${ELIDED}${bytes.length}:${elidedHash(bytes)}`;
}

/**
 * The object's JSON text with every string literal longer than `maxBytes` replaced by a short placeholder holding
 * its length and a hash of it. Done on the decompressed bytes, before they become a JavaScript string: a 17 MiB log
 * body would otherwise be held as text, then again as the parsed value — more than the staging worker's heap. Any
 * record holding such a string is over the size limit anyway; the placeholder keeps its size (for the check) and
 * its identity (for the too_large row's ID).
 */
export function elideLongStrings(json: Buffer, maxBytes: number): string {
  if (json.length <= maxBytes) return json.toString('utf8');
  const parts: string[] = [];
  let copiedTo = 0;
  for (let open = json.indexOf(0x22); open !== -1;) {
    const close = closingQuote(json, open);
    if (close - open - 1 > maxBytes) {
      const hash = elidedHash(json.subarray(open + 1, close));
      parts.push(json.toString('utf8', copiedTo, open), `"\\u0000elided:${close - open - 1}:${hash}"`);
      copiedTo = close + 1;
    }
    open = close >= json.length ? -1 : json.indexOf(0x22, close + 1);
  }
  parts.push(json.toString('utf8', copiedTo));
  return parts.join('');
}

/** The index of the quote closing the string literal opened at `open` (skipping escaped quotes), or the length. */
function closingQuote(json: Buffer, open: number): number {
  for (let from = open + 1; ;) {
    const quote = json.indexOf(0x22, from);
    if (quote === -1) return json.length;
    let backslashes = 0;
    while (json[quote - 1 - backslashes] === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** The JSON size of a value, counted until it passes `limit` (then a number just past it); elided strings count whole. */
export function jsonBytesBeyond(value: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= limit) {
    const v = stack.pop();
    if (typeof v === 'string') total += (v.startsWith(ELIDED) ? Number(v.split(':')[1]) : v.length) + 2;
    else if (v === null || typeof v !== 'object') total += 8;
    else if (Array.isArray(v)) {
      total += 2 + v.length;
      if (total > limit) break;
      for (const item of v) stack.push(item);
    } else {
      for (const [key, item] of Object.entries(v)) {
        total += key.length + 4;
        stack.push(item);
      }
    }
  }
  return total;
}

function tooLargeRow(
  record: AnyRecord,
  resource: Resource,
  kind: string,
  metricName: string | undefined,
  maxBytes: number,
): RejectedRow {
  const attributes = decodeKeyValues(record.attributes);
  const service = decodeKeyValues(resource?.attributes);
  const time = contentTime(record.timeUnixNano ?? record.startTimeUnixNano, record.observedTimeUnixNano);
  const name = record.eventName ?? metricName ?? record.name ?? '';
  return {
    event_id: asString(attributes[EVENT_ATTRIBUTES.id]) ?? hashedId(record, resource),
    event_name: name.slice(0, 200),
    schema_version: asString(attributes[EVENT_ATTRIBUTES.schemaVersion]),
    event_time: time.replace('T', ' ').replace('Z', ''),
    dt: time.slice(0, 10),
    trace_id: asString(record.traceId?.toLowerCase()),
    span_id: asString(record.spanId?.toLowerCase()),
    service_name: asString(service['service.name']),
    service_version: asString(service['service.version']),
    deployment_environment: asString(
      service['deployment.environment.name'] ?? service['deployment.environment'],
    ),
    user_id: null,
    reason: TOO_LARGE,
    errors: JSON.stringify([
      {
        path: '',
        message: `${kind} of more than ${maxBytes} bytes of JSON is over the lake's limit (OBSERVATORY_LAKE_MAX_RECORD_KB)`,
      },
    ]),
    payload: preview(record),
    payload_truncated: true,
  };
}

/** The record's JSON with long strings and lists cut, then cut to PAYLOAD_CHARS. */
function preview(record: AnyRecord): string {
  const text = JSON.stringify(record, (_key, value: unknown) => {
    if (typeof value === 'string' && value.length > PREVIEW_STRING_CHARS)
      return `${value.slice(0, PREVIEW_STRING_CHARS)}…`;
    if (Array.isArray(value) && value.length > PREVIEW_LIST_ITEMS) return value.slice(0, PREVIEW_LIST_ITEMS);
    return value;
  });
  return text.slice(0, PAYLOAD_CHARS);
}

/** A stable ID (UUID-shaped, version 8) of the record and its resource, hashed piece by piece: never one big string. */
function hashedId(record: AnyRecord, resource: Resource): string {
  const hash = createHash('sha256');
  feed(hash, record);
  feed(hash, resource ?? null);
  const hex = hash.digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function feed(hash: Hash, value: unknown): void {
  if (typeof value === 'string') hash.update(`s${value.length}:`).update(value);
  else if (value === null || typeof value !== 'object') hash.update(`v${JSON.stringify(value) ?? 'u'};`);
  else if (Array.isArray(value)) {
    hash.update(`a${value.length}[`);
    for (const item of value) feed(hash, item);
  } else {
    const entries = Object.entries(value);
    hash.update(`o${entries.length}{`);
    for (const [key, item] of entries) {
      hash.update(`k${key.length}:${key}`);
      feed(hash, item);
    }
  }
}
