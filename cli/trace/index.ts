export { traceCommand, buildTraceDocument, listingOf, TRACE_USAGE, EXIT_CODES } from './command.ts';
export { JaegerClient, JaegerUnreachableError } from './JaegerClient.ts';
export type { JaegerTrace, JaegerSpan } from './JaegerClient.ts';
export { parseTraceId, TraceIdError } from './trace-id.ts';
export { buildDocument } from './model.ts';
export type { TraceIo, TraceListing, TraceLookup } from './command.ts';
export type {
  TraceDocument,
  SpanNode,
  SpanStatus,
  SpanException,
  LogEntry,
  EventEntry,
  TraceSummary,
  CriticalStep,
  EtlJobSummary,
} from './types.ts';
