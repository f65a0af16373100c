/** The W3C Trace Context Level 2 `traceresponse` header: `00-<trace-id>-<parent-id>-<flags>`. */
import type { SpanContext } from '@opentelemetry/api';

export function formatTraceResponse(spanContext: SpanContext): string {
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}
