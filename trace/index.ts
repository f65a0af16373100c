export { traceConfig } from './config.ts';
export type { TraceConfig } from './config.ts';
export { listingOf } from './listing.ts';
export { applicationServices, isStackService } from './stack-services.ts';
export { JaegerClient, JaegerUnreachableError } from './jaeger-client.ts';
export type { JaegerTrace, JaegerSpan } from './jaeger-client.ts';
export { parseTraceId, TraceIdError } from './trace-id.ts';
export { buildDocument } from './model.ts';
export { allSpans, compareTraces, flameGraph, selfTime, traceStatistics, zoomFlame } from './analysis.ts';
export type {
  CompareRow,
  CompareSide,
  FlameFrame,
  OperationStats,
  ServiceShare,
  TraceBrief,
  TraceComparison,
} from './analysis.ts';
export { buildTraceDocument } from './lookup.ts';
export type { TraceLookup, TraceLookupOptions } from './lookup.ts';
export type { TraceListing } from './types.ts';
export type {
  TraceDocument,
  SpanNode,
  SpanStatus,
  SpanException,
  LogEntry,
  EventEntry,
  ProcessEntry,
  TraceSummary,
  CriticalStep,
  EtlJobSummary,
} from './types.ts';
