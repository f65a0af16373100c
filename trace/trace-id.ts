/**
 * What users paste: a trace ID, a `traceparent` or a `traceresponse` value (the header a response carries, maybe
 * with its name in front), in any case and with surrounding whitespace.
 */

/** Thrown for input that is not a trace ID in any accepted form; the message says what was expected. */
export class TraceIdError extends Error {}

const EXPECTED =
  'expected 32 hex digits, a traceparent or a traceresponse value (00-<32 hex trace ID>-<16 hex span ID>-<2 hex flags>)';

/** The trace ID in canonical form (32 lowercase hex), or a TraceIdError naming the problem. */
export function parseTraceId(input: string): string {
  const value = input
    .trim()
    .replace(/^(traceparent|traceresponse)\s*:\s*/i, '')
    .toLowerCase();
  const shown = JSON.stringify(input.length > 80 ? `${input.slice(0, 77)}...` : input);
  const fail = (why: string) => new TraceIdError(`${shown} is not a trace ID: ${why}; ${EXPECTED}`);
  if (value === '') throw fail('it is empty');
  let id = value;
  if (value.includes('-')) {
    const parts = value.split('-');
    const [version, traceId, spanId, flags] = parts;
    if (parts.length < 4 || !/^[0-9a-f]{2}$/.test(version!) || version === 'ff') {
      throw fail('it is not a valid traceparent (version, trace ID, span ID and flags separated by "-")');
    }
    if (version === '00' && parts.length !== 4)
      throw fail('a version 00 traceparent has exactly four fields');
    if (!/^[0-9a-f]{16}$/.test(spanId!) || /^0+$/.test(spanId!)) {
      throw fail('its span ID is not 16 hex digits (or is all zeros)');
    }
    if (!/^[0-9a-f]{2}$/.test(flags!)) throw fail('its flags are not 2 hex digits');
    id = traceId!;
  }
  if (!/^[0-9a-f]*$/.test(id)) throw fail('the trace ID has characters that are not hex digits');
  if (id.length !== 32) throw fail(`the trace ID has ${id.length} hex digits instead of 32`);
  if (/^0+$/.test(id)) throw fail('the all-zero trace ID is invalid');
  return id;
}
