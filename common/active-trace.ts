/**
 * The correlation ID of the work in progress: the active span's trace ID. One function for the error bodies of our
 * HTTP kit (common/http/app.ts) and for applications (instrumentation/api.ts re-exports it).
 */
import { trace } from '@opentelemetry/api';

/** The trace ID of the active span (the correlation ID), or undefined outside any trace. */
export function activeTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && spanContext.traceId !== '00000000000000000000000000000000'
    ? spanContext.traceId
    : undefined;
}
