/**
 * The soak's classification of unexpected server errors (bench/lib/service-logs.ts): it reads the services' logs, in
 * the shape the common HTTP kit writes them (pino JSON lines, an error line per 5xx with the trace ID and the error),
 * and names where each failure began — behind the gateway's `downstream_*` wrapping — and the error there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { causeOf, errorLinesByTrace, groupCauses } from '../../bench/lib/service-logs.ts';
import type { Failure } from '../../demo/load-generator.ts';

const dir = mkdtempSync(join(tmpdir(), 'observatory-service-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRACE = {
  internal: 'a'.repeat(32),
  timeout: 'b'.repeat(32),
  reset: 'c'.repeat(32),
  quiet: 'd'.repeat(32),
};

/** One line as the kit's error handler logs it (`logger.error({err, status, path}, message)` with the trace mixin). */
function errorLine(service: string, traceId: string, status: number, err: object, path = '/scenes'): string {
  return JSON.stringify({
    level: 50,
    time: '2026-12-04T20:57:45.000Z',
    'service.name': service,
    trace_id: traceId,
    span_id: '1'.repeat(16),
    trace_flags: '01',
    err: { stack: '…', ...err },
    status,
    path,
    msg: (err as { message: string }).message,
  });
}

writeFileSync(
  join(dir, 'gateway.log'),
  [
    'LISTENING 34129',
    JSON.stringify({ level: 30, 'service.name': 'gateway', msg: 'gateway listening' }),
    errorLine('gateway', TRACE.internal, 502, {
      type: 'HttpError',
      code: 'downstream_error',
      message: 'catalog failed with 500: internal error',
    }),
    errorLine('gateway', TRACE.timeout, 504, {
      type: 'HttpError',
      code: 'downstream_timeout',
      message: 'catalog did not answer within 5000 ms',
    }),
    errorLine('gateway', TRACE.reset, 503, {
      type: 'HttpError',
      code: 'downstream_unavailable',
      message: 'downloads is unavailable: fetch failed: other side closed',
    }),
    '{"level":50, not json',
  ].join('\n'),
);
writeFileSync(
  join(dir, 'catalog.log'),
  [
    JSON.stringify({ level: 30, 'service.name': 'catalog', trace_id: TRACE.internal, msg: 'scene search' }),
    errorLine('catalog', TRACE.internal, 500, {
      type: 'TimeoutError',
      name: 'TimeoutError',
      message: 'Connection timed out after 0192f3a4-5b6c-7d8e-9f01-23456789abcd',
    }),
  ].join('\n'),
);

const failure = (traceId: string | undefined, status: number, code = 'x', message = ''): Failure => ({
  kind: 'search',
  route: 'GET /api/scenes',
  status,
  code,
  message,
  traceId,
});

describe('The causes of unexpected server errors', () => {
  it("names the downstream service whose own work failed, and its error, behind the gateway's 502", async () => {
    const lines = await errorLinesByTrace(dir, new Set(Object.values(TRACE)));
    expect(lines.has(TRACE.quiet)).toBe(false);
    expect(causeOf(failure(TRACE.internal, 502), lines.get(TRACE.internal))).toEqual({
      route: 'GET /api/scenes',
      status: 502,
      origin: 'catalog',
      error: 'TimeoutError: Connection timed out after <uuid>',
    });
  });

  it('names the hop when the downstream did not answer in time or closed the connection', async () => {
    const lines = await errorLinesByTrace(dir, new Set(Object.values(TRACE)));
    expect(causeOf(failure(TRACE.timeout, 504), lines.get(TRACE.timeout))).toMatchObject({
      origin: 'gateway → catalog',
      error: 'downstream_timeout: catalog did not answer within 5000 ms',
    });
    expect(causeOf(failure(TRACE.reset, 503), lines.get(TRACE.reset))).toMatchObject({
      origin: 'gateway → downloads',
      error: 'downstream_unavailable: downloads is unavailable: fetch failed: other side closed',
    });
  });

  it("names the client's hop with the network error when the gateway gave no answer, and groups by cause", () => {
    const noAnswer = failure(undefined, 0, 'TimeoutError', 'The operation was aborted due to timeout');
    expect(causeOf(noAnswer)).toEqual({
      route: 'GET /api/scenes',
      status: 0,
      origin: 'client → gateway',
      error: 'TimeoutError: The operation was aborted due to timeout',
    });
    const timeout = causeOf(failure(TRACE.timeout, 504), [
      {
        service: 'gateway',
        status: 504,
        code: 'downstream_timeout',
        message: 'catalog did not answer within 5000 ms',
      },
    ]);
    const groups = groupCauses([
      { cause: causeOf(noAnswer), traceId: undefined },
      { cause: timeout, traceId: TRACE.timeout },
      { cause: timeout, traceId: 'e'.repeat(32) },
    ]);
    expect(groups).toEqual([
      { cause: timeout, count: 2, traceId: TRACE.timeout },
      { cause: causeOf(noAnswer), count: 1, traceId: undefined },
    ]);
  });
});
