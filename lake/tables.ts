/**
 * The curated tables, one definition each: the columns in file order, the Hive partition keys and the columns that
 * identify a row (the dedup key). The Parquet files (compact.ts), the DuckDB views (query.ts) and the Athena tables
 * (athena.ts) all derive from this list, so the three cannot drift apart.
 */
import {
  allDefinitions,
  columnType,
  COMMON_PROPERTY_COLUMNS,
  propertyColumns,
  type ColumnType,
} from '../tracker/registry.ts';
import type { LakeSignal } from './config.ts';
import { COMMON_COLUMNS, REJECTED_COLUMNS } from './flatten.ts';

export { isPartitionToken, partitionValue } from './partition.ts';

/** Column types of the lake: the registry's scalar types, plus maps of attributes and numeric lists. */
export type LakeType = ColumnType | 'MAP(VARCHAR, VARCHAR)' | 'DOUBLE[]' | 'BIGINT[]';
export type Columns = readonly (readonly [string, LakeType])[];

export type TableName = 'events' | 'rejected' | 'logs' | 'metrics' | 'spans';

export interface TableSpec {
  name: TableName;
  /** The raw signal it is compacted from. */
  signal: LakeSignal;
  /** Every column, partition keys included, in file order. */
  columns: Columns;
  /** Hive partition keys, outermost first; each is a VARCHAR column of the row. */
  partitionBy: readonly string[];
  /** The columns that identify a row: a row whose key is already in the batch or in its partition is a duplicate. */
  key: readonly string[];
  /**
   * The row's time (its `dt` comes from it). A duplicate is the same record, so it has the same time: each Parquet
   * object's name carries its rows' time range, and a compaction reads the keys of only the objects whose range meets
   * its rows' (lake/compact.ts, drop existing rows).
   */
  timeColumn: string;
  /** One line for the docs and the Athena comment. */
  description: string;
}

const MAP = 'MAP(VARCHAR, VARCHAR)' as const;

/** App log records (raw/logs/): everything the services log that is not a business event. */
export const LOG_COLUMNS: Columns = [
  ['log_id', 'VARCHAR'],
  ['time', 'TIMESTAMP'],
  ['observed_time', 'TIMESTAMP'],
  ['dt', 'VARCHAR'],
  ['trace_id', 'VARCHAR'],
  ['span_id', 'VARCHAR'],
  ['service_name', 'VARCHAR'],
  ['severity_text', 'VARCHAR'],
  ['severity_number', 'BIGINT'],
  ['body', 'VARCHAR'],
  ['attributes', MAP],
  ['resource', MAP],
  ['scope_name', 'VARCHAR'],
];

/** One row per metric data point (raw/metrics/). Histograms keep count, sum, min, max and their buckets. */
export const METRIC_COLUMNS: Columns = [
  ['point_id', 'VARCHAR'],
  ['metric_name', 'VARCHAR'],
  ['dt', 'VARCHAR'],
  ['metric_type', 'VARCHAR'],
  ['unit', 'VARCHAR'],
  ['temporality', 'VARCHAR'],
  ['is_monotonic', 'BOOLEAN'],
  ['service_name', 'VARCHAR'],
  ['resource', MAP],
  ['scope_name', 'VARCHAR'],
  ['attributes', MAP],
  ['start_time', 'TIMESTAMP'],
  ['time', 'TIMESTAMP'],
  ['value', 'DOUBLE'],
  ['count', 'BIGINT'],
  ['sum', 'DOUBLE'],
  ['min', 'DOUBLE'],
  ['max', 'DOUBLE'],
  ['bucket_bounds', 'DOUBLE[]'],
  ['bucket_counts', 'BIGINT[]'],
];

/** One row per span (raw/traces/). Span events and links are JSON arrays. */
export const SPAN_COLUMNS: Columns = [
  ['trace_id', 'VARCHAR'],
  ['span_id', 'VARCHAR'],
  ['parent_span_id', 'VARCHAR'],
  ['dt', 'VARCHAR'],
  ['service_name', 'VARCHAR'],
  ['name', 'VARCHAR'],
  ['kind', 'VARCHAR'],
  ['start_time', 'TIMESTAMP'],
  ['end_time', 'TIMESTAMP'],
  ['duration_ms', 'DOUBLE'],
  ['status_code', 'VARCHAR'],
  ['status_message', 'VARCHAR'],
  ['attributes', MAP],
  ['resource', MAP],
  ['scope_name', 'VARCHAR'],
  ['events', 'VARCHAR'],
  ['links', 'VARCHAR'],
];

/** The events table's columns: the common ones, every registered typed property, and the properties as JSON. */
export function eventColumns(): Columns {
  return [...COMMON_COLUMNS, ...propertyColumns(), ['properties', 'VARCHAR']];
}

export function tableSpecs(): TableSpec[] {
  return [
    {
      name: 'events',
      signal: 'events',
      columns: eventColumns(),
      partitionBy: ['event_name', 'dt'],
      key: ['event_id'],
      timeColumn: 'event_time',
      description: 'accepted business event',
    },
    {
      name: 'rejected',
      signal: 'events',
      columns: [...COMMON_COLUMNS, ...REJECTED_COLUMNS],
      partitionBy: ['reason', 'dt'],
      key: ['event_id'],
      timeColumn: 'event_time',
      description: 'business event rejected by its schema, or record over the size limit (reason too_large)',
    },
    {
      name: 'logs',
      signal: 'logs',
      columns: LOG_COLUMNS,
      partitionBy: ['dt'],
      key: ['log_id'],
      timeColumn: 'time',
      description: 'app log record',
    },
    {
      name: 'metrics',
      signal: 'metrics',
      columns: METRIC_COLUMNS,
      partitionBy: ['metric_name', 'dt'],
      key: ['point_id'],
      timeColumn: 'time',
      description: 'metric data point',
    },
    {
      name: 'spans',
      signal: 'traces',
      columns: SPAN_COLUMNS,
      partitionBy: ['dt'],
      key: ['trace_id', 'span_id'],
      timeColumn: 'start_time',
      description: 'span',
    },
  ];
}

export function tableSpec(name: TableName): TableSpec {
  return tableSpecs().find((t) => t.name === name)!;
}

/** The events table's file columns for one event name: the common ones, its typed properties, the JSON. */
export function eventColumnsOf(eventName: string): Columns {
  return [...COMMON_COLUMNS, ...Object.entries(typedColumns(eventName)), ['properties', 'VARCHAR']];
}

/** The typed property columns of one event name (every registered version of it). */
export function typedColumns(eventName: string): Record<string, ColumnType> {
  const columns: Record<string, ColumnType> = {};
  for (const definition of allDefinitions().filter((d) => d.name === eventName)) {
    for (const [property, schema] of Object.entries(definition.schema.properties)) {
      if (!COMMON_PROPERTY_COLUMNS.has(property)) columns[property] = columnType(schema);
    }
  }
  return columns;
}
