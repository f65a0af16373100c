export { compact, compactAll } from './compact.ts';
export { planCompaction, unprocessedKeys } from './plan.ts';
export { queryLake, TABLE_NAMES } from './query.ts';
export { LakeEngine } from './engine.ts';
export { ReadOnlySqlError } from './sql-guard.ts';
export { formatCsv, formatJson, formatTable } from './format.ts';
export { athenaDdl } from './athena.ts';
export { lakeConfig, signalOf, LAKE_SIGNALS } from './config.ts';
export { Flattener, decodeAnyValue, parseOtlpLogs } from './flatten.ts';
export { flattenLogs, flattenMetrics, flattenSpans } from './flatten-telemetry.ts';
export { tableSpecs, typedColumns } from './tables.ts';
export type {
  CompactOptions,
  CompactionProgress,
  CompactionResult,
  FailedObject,
  LakeSignalStats,
} from './compact.ts';
export type { CompactionChunk } from './plan.ts';
export type { QueryOptions, QueryResult, JsonValue } from './query.ts';
export type { LakeEngineOptions, LakeEngineStatus, StreamedResult, StreamOptions } from './engine.ts';
export type { AthenaOptions } from './athena.ts';
export type { LakeConfig, LakeSignal } from './config.ts';
export type { EventRow, RejectedRow, OtlpLogsDocument } from './flatten.ts';
export type { OtlpMetricsDocument, OtlpTracesDocument } from './flatten-telemetry.ts';
export type { TableName, TableSpec } from './tables.ts';
