/**
 * Raw OTLP JSON (as the Collector's awss3 exporter writes it) to lake rows. The compaction re-checks every record
 * against the registry, because not every producer is our Tracker: an event with an unknown name or version, or
 * whose properties break its schema, becomes a rejected row instead of a bad row in the events table.
 * OTLP JSON quirks handled here: int64 values arrive as strings, attribute value types vary between records,
 * and IDs are hex strings (empty when there was no active span).
 */
import { EVENT_ATTRIBUTES } from '../common/names.ts';
// The registry alone, not the Tracker: the compaction has no use for the SDK the Tracker loads (≈ 35 MB of RSS).
import {
  allDefinitions,
  COMMON_PROPERTY_COLUMNS,
  currentDefinition,
  findDefinition,
  Validators,
  type ColumnType,
  type ValidationError,
} from '../tracker/registry.ts';
import type { EventDefinition } from '../tracker/schema.ts';
import { partitionValue } from './partition.ts';
import {
  asString,
  contentId,
  contentTime,
  decodeAnyValue,
  decodeKeyValues,
  type OtlpAnyValue,
  type OtlpKeyValue,
  type OtlpLogRecord,
  type OtlpLogsDocument,
} from './otlp.ts';

export { asString, contentId, contentTime, decodeAnyValue, decodeKeyValues };
export type { OtlpAnyValue, OtlpKeyValue, OtlpLogRecord, OtlpLogsDocument };

/** Columns every row has, in both tables. */
export interface CommonRow {
  event_id: string;
  event_name: string;
  schema_version: string | null;
  /** UTC, `YYYY-MM-DD HH:MM:SS.mmm`. */
  event_time: string;
  /** The event-time date (UTC): the partition. */
  dt: string;
  trace_id: string | null;
  span_id: string | null;
  service_name: string | null;
  service_version: string | null;
  deployment_environment: string | null;
  user_id: string | null;
}

export interface EventRow extends CommonRow {
  /** The properties as a JSON object text. */
  properties: string;
  /** Typed property columns (registry: one column per property name). */
  typed: Record<string, unknown>;
}

export interface RejectedRow extends CommonRow {
  reason: string;
  /** JSON array of {path, message}. */
  errors: string;
  /** The payload as JSON text, truncated by the producer to the attribute limit. */
  payload: string;
  payload_truncated: boolean;
}

export interface FlattenResult {
  events: EventRow[];
  rejected: RejectedRow[];
  records: number;
}

/**
 * The columns every curated row has, in file order: the one definition the Parquet files (compact.ts), the DuckDB
 * views (query.ts) and the Athena tables (athena.ts) derive from. event_name (reason for rejected rows) and dt are
 * also the partition keys.
 */
export const COMMON_COLUMNS: readonly (readonly [string, ColumnType])[] = [
  ['event_id', 'VARCHAR'],
  ['event_name', 'VARCHAR'],
  ['schema_version', 'VARCHAR'],
  ['event_time', 'TIMESTAMP'],
  ['dt', 'VARCHAR'],
  ['trace_id', 'VARCHAR'],
  ['span_id', 'VARCHAR'],
  ['service_name', 'VARCHAR'],
  ['service_version', 'VARCHAR'],
  ['deployment_environment', 'VARCHAR'],
  ['user_id', 'VARCHAR'],
];

/** What a rejected row has beyond the common columns. */
export const REJECTED_COLUMNS: readonly (readonly [string, ColumnType])[] = [
  ['reason', 'VARCHAR'],
  ['errors', 'VARCHAR'],
  ['payload', 'VARCHAR'],
  ['payload_truncated', 'BOOLEAN'],
];

export interface FlattenerOptions {
  /**
   * Team events published beside the data (lake/schemas.ts `publishedDefinitions`): validated like ours, their
   * properties kept in the `properties` column (the tables' typed columns stay those of our registry).
   */
  published?: readonly EventDefinition[];
}

export class Flattener {
  private readonly validators = new Validators();
  private readonly published = new Map<string, EventDefinition>();
  private readonly publishedCurrent = new Map<string, EventDefinition>();

  constructor(options: FlattenerOptions = {}) {
    for (const definition of options.published ?? []) {
      // Ours win: a published schema cannot redefine an event of our registry.
      if (currentDefinition(definition.name)) continue;
      this.published.set(`${definition.name}@${definition.version}`, definition);
      const current = this.publishedCurrent.get(definition.name);
      if (!current || compareVersions(definition.version, current.version) > 0)
        this.publishedCurrent.set(definition.name, definition);
    }
  }

  flatten(document: OtlpLogsDocument): FlattenResult {
    const result: FlattenResult = { events: [], rejected: [], records: 0 };
    for (const resourceLogs of document.resourceLogs ?? []) {
      const resource = decodeKeyValues(resourceLogs.resource?.attributes);
      for (const scopeLogs of resourceLogs.scopeLogs ?? []) {
        for (const record of scopeLogs.logRecords ?? []) {
          result.records++;
          this.flattenRecord(record, resource, result);
        }
      }
    }
    return result;
  }

  /** One record: a row rejected by its producer, rejected here, or accepted with its typed columns. */
  private flattenRecord(record: OtlpLogRecord, resource: Record<string, unknown>, out: FlattenResult): void {
    const attributes = decodeKeyValues(record.attributes);
    const common = commonRow(record, resource, attributes);
    const reason = asString(attributes[EVENT_ATTRIBUTES.rejectedReason]);
    if (reason) {
      // The reason names a partition folder: whatever the producer sent, it is reduced to a safe token.
      out.rejected.push(rejectedByProducer(common, partitionValue(reason), attributes));
      return;
    }
    const properties = decodeAnyValue(record.body);
    const checked = this.check(common, properties);
    if ('reason' in checked)
      out.rejected.push(rejectedRow(common, properties, checked.reason, checked.errors));
    else out.events.push(acceptedRow(common, checked.definition, properties as Record<string, unknown>));
  }

  /** The registry's verdict on a record: its definition, or why it is rejected. */
  private check(
    common: CommonRow,
    properties: unknown,
  ): { definition: EventDefinition } | { reason: string; errors: ValidationError[] } {
    const name = common.event_name;
    const version = common.schema_version;
    const definition = this.find(name, version);
    if (!definition) {
      return currentDefinition(name) || this.publishedCurrent.has(name)
        ? {
            reason: 'unknown_schema_version',
            errors: [{ path: '', message: `event ${name} has no registered version ${String(version)}` }],
          }
        : {
            reason: 'unknown_event',
            errors: [{ path: '', message: `event ${JSON.stringify(name)} is not in the registry` }],
          };
    }
    const validation = this.validators.validate(definition, properties);
    if (validation.valid) return { definition };
    const more = validation.omitted
      ? [{ path: '', message: `${validation.omitted} more errors left out` }]
      : [];
    return { reason: 'schema_violation', errors: [...validation.errors, ...more] };
  }

  /** The named version (the current one when the record names none): ours, else a published one. */
  private find(name: string, version: string | null): EventDefinition | undefined {
    const ours = version ? findDefinition(name, version) : currentDefinition(name);
    if (ours) return ours;
    return version ? this.published.get(`${name}@${version}`) : this.publishedCurrent.get(name);
  }
}

/** SchemaVer order: MODEL, then REVISION, then ADDITION, as numbers. */
function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((version) => version.split('-').map(Number));
  for (let i = 0; i < 3; i++) if (x![i] !== y![i]) return x![i]! - y![i]!;
  return 0;
}

/** The columns every row has, from the record, its resource and its `event.*` attributes. */
function commonRow(
  record: OtlpLogRecord,
  resource: Record<string, unknown>,
  attributes: Record<string, unknown>,
): CommonRow {
  const time = eventTime(record);
  return {
    // A producer without our IDs still dedups: the same record redelivered hashes to the same ID.
    event_id: asString(attributes[EVENT_ATTRIBUTES.id]) ?? contentId(record, resource),
    event_name: record.eventName ?? '',
    schema_version: asString(attributes[EVENT_ATTRIBUTES.schemaVersion]),
    event_time: time.replace('T', ' ').replace('Z', ''),
    dt: time.slice(0, 10),
    trace_id: asString(record.traceId),
    span_id: asString(record.spanId),
    service_name: asString(resource['service.name']),
    service_version: asString(resource['service.version']),
    deployment_environment: asString(
      resource['deployment.environment.name'] ?? resource['deployment.environment'],
    ),
    user_id: null,
  };
}

/** A record the Tracker already rejected: its reason, errors and (possibly truncated) payload ride as attributes. */
function rejectedByProducer(
  common: CommonRow,
  reason: string,
  attributes: Record<string, unknown>,
): RejectedRow {
  const payload = asString(attributes[EVENT_ATTRIBUTES.payload]) ?? '';
  return {
    ...common,
    user_id: userIdFrom(payload),
    reason,
    errors: asString(attributes[EVENT_ATTRIBUTES.errors]) ?? '[]',
    payload,
    payload_truncated: attributes[EVENT_ATTRIBUTES.payloadTruncated] === true,
  };
}

function rejectedRow(
  common: CommonRow,
  properties: unknown,
  reason: string,
  errors: ValidationError[],
): RejectedRow {
  const payload = JSON.stringify(properties) ?? 'null';
  return {
    ...common,
    user_id: userIdFrom(payload),
    reason,
    errors: JSON.stringify(errors),
    payload,
    payload_truncated: false,
  };
}

function acceptedRow(
  common: CommonRow,
  definition: EventDefinition,
  props: Record<string, unknown>,
): EventRow {
  const typed: Record<string, unknown> = {};
  // A published team event has no typed columns of its own: its properties live in the `properties` column.
  const ours = findDefinition(definition.name, definition.version) === definition;
  for (const property of ours ? Object.keys(definition.schema.properties) : []) {
    if (!COMMON_PROPERTY_COLUMNS.has(property)) typed[property] = props[property] ?? null;
  }
  return {
    ...common,
    schema_version: definition.version,
    user_id: asString(props.user_id),
    properties: JSON.stringify(props),
    typed,
  };
}

/** ISO-8601 UTC of the record's time (event time), falling back to when the SDK observed it. */
function eventTime(record: OtlpLogRecord): string {
  return contentTime(record.timeUnixNano, record.observedTimeUnixNano);
}

function userIdFrom(payload: string): string | null {
  try {
    const parsed = JSON.parse(payload) as unknown;
    if (
      parsed &&
      typeof parsed === 'object' &&
      typeof (parsed as { user_id?: unknown }).user_id === 'string'
    ) {
      return (parsed as { user_id: string }).user_id;
    }
  } catch {
    // A truncated payload is not JSON any more; the rejected row keeps it as text.
  }
  return null;
}

/** Every event name the registry knows, for partition projection and typed columns. */
export function registeredEventNames(): string[] {
  return [...new Set(allDefinitions().map((d) => d.name))];
}

/**
 * An object of OTLP JSON logs as the awss3 exporter writes it: one document, or — when its sending queue batches
 * several requests into one object — one document per line. Throws, naming `what`, when it is neither.
 */
export function parseOtlpLogs(text: string, what: string): OtlpLogsDocument {
  try {
    return JSON.parse(text) as OtlpLogsDocument;
  } catch {
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    const documents = lines.map((line, i) => {
      try {
        return JSON.parse(line) as OtlpLogsDocument;
      } catch (error) {
        throw new Error(`${what} is not OTLP JSON: line ${i + 1}: ${(error as Error).message}`);
      }
    });
    if (documents.length === 0) throw new Error(`${what} is empty, not OTLP JSON`);
    return { resourceLogs: documents.flatMap((d) => d.resourceLogs ?? []) };
  }
}
