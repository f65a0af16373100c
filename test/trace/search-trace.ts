/**
 * A hand-made trace for the model and renderer unit tests (fixtures/search-trace.json): a search whose catalog call
 * fails inside, a render step alongside, and an ETL job the request starts that outlives it, with one chunk retried;
 * plus a span whose parent never arrived, a span exported twice, and logs and events around them. Times are whole
 * milliseconds from the first span, so every number the tests expect can be worked out by hand.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDocument } from '../../trace/model.ts';
import type { JaegerTrace } from '../../trace/jaeger-client.ts';
import type { EventEntry, LogEntry, TraceDocument } from '../../trace/types.ts';
import { REPO_ROOT } from '../../common/paths.ts';

export const SPAN = {
  search: 'a000000000000001',
  catalogCall: 'b000000000000002',
  catalogServer: 'c000000000000003',
  query: 'd000000000000004',
  render: 'e000000000000005',
  job: 'f000000000000006',
  chunk: '0000000000000007',
  attempt1: '1000000000000008',
  attempt2: '2000000000000009',
  orphan: '300000000000000a',
} as const;

export function fixtureTrace(): JaegerTrace {
  const path = join(REPO_ROOT, 'test', 'trace', 'fixtures', 'search-trace.json');
  return JSON.parse(readFileSync(path, 'utf8')) as JaegerTrace;
}

export const T0 = '2026-05-28T20:26:40.000Z';
export const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

export function fixtureLogs(): LogEntry[] {
  const log = (ms: number, span: string | null, body: string, severity = 'INFO'): LogEntry => ({
    time: at(ms),
    service: 'catalog',
    severity,
    body,
    attributes: {},
    span_id: span,
    placed: false,
  });
  // Out of time order on purpose: the document sorts them.
  return [
    log(48, SPAN.query, 'query failed', 'ERROR'),
    log(21, SPAN.query, 'query started'),
    log(5, 'cccccccccccccccc', 'from a span of another trace', 'WARN'),
    log(7, null, 'no span at all'),
  ];
}

export function fixtureEvents(): EventEntry[] {
  return [
    {
      event_id: '0190a000-0000-7000-8000-000000000001',
      event_name: 'search_made',
      time: at(99),
      service: 'gateway',
      schema_version: '1-0-0',
      properties: { query: 'wheat', n_results: 3, user_id: 'u1' },
      rejected_reason: null,
      span_id: SPAN.search,
      placed: false,
      source: 'raw',
    },
  ];
}

export const fixtureDocument = (): TraceDocument =>
  buildDocument(fixtureTrace(), fixtureLogs(), fixtureEvents(), ['lake not read']);
