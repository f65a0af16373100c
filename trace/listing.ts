/**
 * One line of a trace list (`observatory trace --last`, the console's traces page) from a Jaeger trace: its root,
 * start, duration, size and whether any span failed.
 */
import type { JaegerTrace } from './jaeger-client.ts';
import type { TraceListing } from './types.ts';

/** One line of `--last`: a trace's root, start, duration, size and error flag. */
export function listingOf(trace: JaegerTrace): TraceListing {
  const ids = new Set(trace.spans.map((s) => s.spanID));
  const start = Math.min(...trace.spans.map((s) => s.startTime));
  const end = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
  const byStart = [...trace.spans].sort((a, b) => a.startTime - b.startTime);
  const root =
    byStart.find((s) => s.references.length === 0) ??
    byStart.find((s) => !s.references.some((r) => ids.has(r.spanID))) ??
    byStart[0]!;
  const isError = (tags: { key: string; value: unknown }[]) =>
    tags.some(
      (t) => (t.key === 'error' && t.value === true) || (t.key === 'otel.status_code' && t.value === 'ERROR'),
    );
  return {
    trace_id: trace.traceID,
    start_time: new Date(Math.floor(start / 1000)).toISOString(),
    duration_ms: Math.round(end - start) / 1000,
    span_count: trace.spans.length,
    error: trace.spans.some((s) => isError(s.tags)),
    root_service: trace.processes[root.processID]?.serviceName ?? 'unknown',
    root_operation: root.operationName,
  };
}
