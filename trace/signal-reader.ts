/**
 * The logs and business events of one trace, from the S3 store: app logs from raw/logs/, events from the curated
 * lake (compacted) and from raw/events/ (not compacted yet), deduplicated by `event.id`.
 *
 * The Collector partitions raw objects by arrival hour (UTC), so only the hours around the trace's time span are
 * listed; its object keys end in a UUIDv7, whose first 48 bits are the write time in milliseconds, so objects
 * written outside that window are not even read. Raw objects are immutable: each is read once per reader.
 */
import { EVENT_ATTRIBUTES } from '../common/names.ts';
import { decodeAnyValue, parseOtlpLogs, queryLake, type JsonValue } from '../lake/index.ts';
import { S3Store } from '../common/s3-store.ts';
import type { TraceConfig } from './config.ts';
import type { EventEntry, LogEntry } from './types.ts';

interface OtlpKeyValue {
  key: string;
  value?: Parameters<typeof decodeAnyValue>[0];
}
interface OtlpLogRecord {
  timeUnixNano?: string | number;
  observedTimeUnixNano?: string | number;
  severityText?: string;
  severityNumber?: number;
  eventName?: string;
  body?: Parameters<typeof decodeAnyValue>[0];
  attributes?: OtlpKeyValue[];
  traceId?: string;
  spanId?: string;
}
interface OtlpLogsDocument {
  resourceLogs?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeLogs?: { logRecords?: OtlpLogRecord[] }[];
  }[];
}

/** One matching record with its resource's service name. */
interface Found {
  record: OtlpLogRecord;
  attributes: Record<string, unknown>;
  service: string | null;
}

/** The S3 store could not be read: logs and events are unknown (not absent). */
export class StoreUnavailableError extends Error {}

const EVENT_ID = EVENT_ATTRIBUTES.id;
const SCHEMA_VERSION = EVENT_ATTRIBUTES.schemaVersion;
const REJECTED_REASON = EVENT_ATTRIBUTES.rejectedReason;
// Attributes every record repeats from its resource: noise next to the service column.
const RESOURCE_ECHO = /^(service\.|deployment\.|telemetry\.)/;

export class SignalReader {
  private readonly config: TraceConfig;
  private readonly store: S3Store;
  /** Raw object key → its records of this trace (objects never change). */
  private readonly read = new Map<string, Found[]>();

  private readonly curatedLogs: boolean;

  /** `curatedLogs`: also read the lake's logs table (for a trace whose raw objects may be gone). */
  constructor(
    config: TraceConfig,
    store: S3Store = S3Store.fromSettings(config.lake.s3),
    options: { curatedLogs?: boolean } = {},
  ) {
    this.config = config;
    this.store = store;
    this.curatedLogs = options.curatedLogs ?? false;
  }

  /** App log records of the trace, read from raw/logs/ objects that arrived in [startMs − before, endMs + after]. */
  async logs(traceId: string, startMs: number, endMs: number): Promise<LogEntry[]> {
    const found = await this.scan(this.config.logsPrefix, traceId, startMs, endMs);
    const raw: LogEntry[] = found
      .filter((f) => !f.record.eventName)
      .map((f) => ({
        time: isoFromNanos(f.record.timeUnixNano, f.record.observedTimeUnixNano),
        service: f.service,
        severity: severityOf(f.record),
        body: decodeAnyValue(f.record.body),
        attributes: Object.fromEntries(
          Object.entries(f.attributes).filter(([key]) => !RESOURCE_ECHO.test(key)),
        ),
        span_id: f.record.spanId || null,
        placed: false,
      }));
    if (!this.curatedLogs) return raw;
    // The same record can be both compacted and still in raw/logs/: one entry per time, span and body.
    const identity = (l: LogEntry) => `${l.time}|${l.span_id}|${JSON.stringify(l.body)}`;
    const curated = await this.curatedLogRows(traceId);
    const seen = new Set(curated.map(identity));
    return [...curated, ...raw.filter((l) => !seen.has(identity(l)))];
  }

  private async curatedLogRows(traceId: string): Promise<LogEntry[]> {
    // traceId is 32 validated hex digits: safe to inline.
    const result = await queryLake(
      `SELECT epoch_ms(time) AS ms, service_name, severity_text, severity_number, body, attributes, span_id
         FROM logs WHERE trace_id = '${traceId}' ORDER BY time`,
      { config: this.config.lake, store: this.store, tables: ['logs'] },
    );
    return result.rows.map((row) => ({
      time: new Date(Number(row.ms)).toISOString(),
      service: stringOrNull(row.service_name),
      severity: row.severity_text
        ? String(row.severity_text).toUpperCase()
        : severityOf({ severityNumber: Number(row.severity_number ?? 0) }),
      body: parseJson(row.body),
      attributes: Object.fromEntries(
        Object.entries((row.attributes ?? {}) as Record<string, unknown>).filter(
          ([key]) => !RESOURCE_ECHO.test(key),
        ),
      ),
      span_id: stringOrNull(row.span_id),
      placed: false,
    }));
  }

  /**
   * Business events of the trace: the curated lake's rows (events and rejected), then raw/events/ records whose
   * `event.id` the lake does not have yet. Returns the events and notes on what could not be read.
   */
  async events(
    traceId: string,
    startMs: number,
    endMs: number,
  ): Promise<{ events: EventEntry[]; notes: string[] }> {
    const notes: string[] = [];
    const events = new Map<string, EventEntry>();
    try {
      for (const entry of await this.curatedEvents(traceId)) events.set(entry.event_id, entry);
    } catch (error) {
      notes.push(
        `the curated lake could not be queried (${(error as Error).message}); events from raw/events/ only`,
      );
    }
    for (const f of await this.scan(this.config.eventsPrefix, traceId, startMs, endMs)) {
      if (!f.record.eventName) continue;
      const id = f.attributes[EVENT_ID];
      const eventId = typeof id === 'string' && id !== '' ? id : `raw:${JSON.stringify(f.record)}`;
      if (events.has(eventId)) continue;
      const reason = f.attributes[REJECTED_REASON];
      events.set(eventId, {
        event_id: eventId,
        event_name: f.record.eventName,
        time: isoFromNanos(f.record.timeUnixNano, f.record.observedTimeUnixNano),
        service: f.service,
        schema_version: stringOrNull(f.attributes[SCHEMA_VERSION]),
        properties: decodeAnyValue(f.record.body),
        rejected_reason: stringOrNull(reason),
        span_id: f.record.spanId || null,
        placed: false,
        source: 'raw',
      });
    }
    return { events: [...events.values()], notes };
  }

  private async curatedEvents(traceId: string): Promise<EventEntry[]> {
    // traceId is 32 validated hex digits: safe to inline.
    const accepted = await queryLake(
      `SELECT event_id, event_name, event_time, span_id, service_name, schema_version, properties
         FROM events WHERE trace_id = '${traceId}'`,
      { config: this.config.lake, store: this.store, tables: ['events', 'rejected'] },
    );
    const rejected = await queryLake(
      `SELECT event_id, event_name, event_time, span_id, service_name, schema_version, reason, payload
         FROM rejected WHERE trace_id = '${traceId}'`,
      { config: this.config.lake, store: this.store, sync: false, tables: ['events', 'rejected'] },
    );
    const entry = (
      row: Record<string, JsonValue>,
      properties: unknown,
      reason: string | null,
    ): EventEntry => ({
      event_id: String(row.event_id),
      event_name: String(row.event_name),
      time: new Date(`${String(row.event_time).replace(' ', 'T')}Z`).toISOString(),
      service: stringOrNull(row.service_name),
      schema_version: stringOrNull(row.schema_version),
      properties,
      rejected_reason: reason,
      span_id: stringOrNull(row.span_id),
      placed: false,
      source: 'curated',
    });
    return [
      ...accepted.rows.map((row) => entry(row, parseJson(row.properties), null)),
      ...rejected.rows.map((row) => entry(row, parseJson(row.payload), stringOrNull(row.reason))),
    ];
  }

  /** Records with this trace ID in the objects under `prefix` that arrived within the window. */
  private async scan(prefix: string, traceId: string, startMs: number, endMs: number): Promise<Found[]> {
    const from = startMs - this.config.arrivalBeforeMs;
    const to = endMs + this.config.arrivalAfterMs;
    const keys: string[] = [];
    try {
      for (const hour of hourPrefixes(prefix, from, to)) {
        for (const object of await this.store.listFolder(hour)) {
          const written = uuidv7Millis(object.key);
          if (written === undefined || (written >= from && written <= to)) keys.push(object.key);
        }
      }
    } catch (error) {
      throw new StoreUnavailableError(`${this.where()} could not be listed (${(error as Error).message})`);
    }
    const pending = keys.filter((key) => !this.read.has(key));
    let next = 0;
    const worker = async () => {
      while (next < pending.length) {
        const key = pending[next++]!;
        this.read.set(key, await this.readObject(key, traceId));
      }
    };
    try {
      await Promise.all(Array.from({ length: this.config.readConcurrency }, worker));
    } catch (error) {
      throw new StoreUnavailableError(`${this.where()} could not be read (${(error as Error).message})`);
    }
    return keys.flatMap((key) => this.read.get(key) ?? []);
  }

  /** The bucket, and the endpoint when one is set (cloud mode without one resolves AWS's regional endpoint). */
  private where(): string {
    const { bucket, endpoint } = this.config.lake.s3;
    return `the S3 store s3://${bucket}${endpoint === undefined ? '' : ` at ${endpoint}`}`;
  }

  private async readObject(key: string, traceId: string): Promise<Found[]> {
    const text = await this.store.getText(key);
    if (!text.toLowerCase().includes(traceId)) return [];
    let document: OtlpLogsDocument;
    try {
      // One OTLP JSON document, or one per line when the exporter batched several requests into the object.
      document = parseOtlpLogs(text, key) as OtlpLogsDocument;
    } catch {
      return []; // Not OTLP JSON: nothing the Collector wrote.
    }
    const found: Found[] = [];
    for (const resourceLogs of document.resourceLogs ?? []) {
      const resource = keyValues(resourceLogs.resource?.attributes);
      for (const scopeLogs of resourceLogs.scopeLogs ?? []) {
        for (const record of scopeLogs.logRecords ?? []) {
          if (record.traceId?.toLowerCase() !== traceId) continue;
          found.push({
            record,
            attributes: keyValues(record.attributes),
            service: stringOrNull(resource['service.name']),
          });
        }
      }
    }
    return found;
  }
}

/** `<prefix>year=YYYY/month=MM/day=DD/hour=HH/` for every UTC hour that overlaps [fromMs, toMs]. */
export function hourPrefixes(prefix: string, fromMs: number, toMs: number): string[] {
  const prefixes: string[] = [];
  const p = (n: number) => String(n).padStart(2, '0');
  for (let t = Math.floor(fromMs / 3_600_000) * 3_600_000; t <= toMs; t += 3_600_000) {
    const d = new Date(t);
    prefixes.push(
      `${prefix}year=${d.getUTCFullYear()}/month=${p(d.getUTCMonth() + 1)}/day=${p(d.getUTCDate())}/hour=${p(d.getUTCHours())}/`,
    );
  }
  return prefixes;
}

/** The write time in a key ending in a UUIDv7 (the Collector's `unique_key_func_name: uuidv7`), if it has one. */
function uuidv7Millis(key: string): number | undefined {
  const match = key.match(
    /([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}(?:\.[a-z.]+)?$/i,
  );
  return match ? parseInt(`${match[1]}${match[2]}`, 16) : undefined;
}

function keyValues(values: OtlpKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of values ?? []) out[kv.key] = decodeAnyValue(kv.value);
  return out;
}

const SEVERITIES: [number, string][] = [
  [21, 'FATAL'],
  [17, 'ERROR'],
  [13, 'WARN'],
  [9, 'INFO'],
  [5, 'DEBUG'],
  [1, 'TRACE'],
];

function severityOf(record: OtlpLogRecord): string {
  if (record.severityText) return record.severityText.toUpperCase();
  const n = record.severityNumber ?? 0;
  return SEVERITIES.find(([min]) => n >= min)?.[1] ?? 'UNSPECIFIED';
}

function isoFromNanos(...values: (string | number | undefined)[]): string {
  for (const value of values) {
    if (value === undefined || value === '' || value === '0' || value === 0) continue;
    return new Date(Number(BigInt(value) / 1_000_000n)).toISOString();
  }
  return new Date(0).toISOString();
}

const stringOrNull = (value: unknown): string | null =>
  value === null || value === undefined || value === '' ? null : String(value);

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
