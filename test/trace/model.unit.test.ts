/**
 * The trace document (trace/model.ts) built from a hand-made Jaeger trace (./search-trace.ts): the span tree,
 * statuses and key attributes, ETL attempts, the critical path with self times, logs and events placed, the summary.
 */
import { describe, expect, it } from 'vitest';
import { buildDocument } from '../../trace/model.ts';
import type { SpanNode, TraceDocument } from '../../trace/types.ts';
import { at, fixtureDocument, fixtureTrace, SPAN, T0 } from './search-trace.ts';

const all = (nodes: SpanNode[]): SpanNode[] => nodes.flatMap((n) => [n, ...all(n.children)]);
const node = (doc: TraceDocument, id: string) => all(doc.spans).find((n) => n.span_id === id)!;
const ids = (nodes: SpanNode[]) => nodes.map((n) => n.span_id);

describe('The trace document', () => {
  it("takes each process's whole resource from the lake when the lake's agrees with Jaeger's copy, else Jaeger's", () => {
    const trace = fixtureTrace();
    trace.processes.p1!.tags = [{ key: 'host.name', value: 'web-1' }];
    trace.processes.p2!.tags = [{ key: 'host.name', value: 'db-1' }];
    const doc = buildDocument(
      trace,
      [],
      [],
      [],
      [
        {
          service: 'gateway',
          attributes: { 'service.name': 'gateway', 'host.name': 'web-1', 'process.pid': 7 },
        },
        // Another instance of catalog than the one in Jaeger's copy: not this process's resource.
        {
          service: 'catalog',
          attributes: { 'service.name': 'catalog', 'host.name': 'db-2', 'process.pid': 8 },
        },
      ],
    );
    const of = (service: string) => doc.processes.find((p) => p.service === service);
    expect(of('gateway')).toEqual({
      service: 'gateway',
      attributes: { 'service.name': 'gateway', 'host.name': 'web-1', 'process.pid': 7 },
      source: 'lake',
    });
    expect(of('catalog')).toEqual({
      service: 'catalog',
      attributes: { 'service.name': 'catalog', 'host.name': 'db-1' },
      source: 'jaeger',
    });
    expect(doc.processes.map((p) => p.service)).toEqual([
      'catalog',
      'etl-listener',
      'etl-worker',
      'gateway',
      'users',
    ]);
  });

  const doc = fixtureDocument();

  it('nests every span under its CHILD_OF parent, children in start order, a duplicate span once', () => {
    expect(ids(doc.spans)).toEqual([SPAN.search, SPAN.orphan]);
    expect(ids(node(doc, SPAN.search).children)).toEqual([SPAN.catalogCall, SPAN.render, SPAN.job]);
    expect(ids(node(doc, SPAN.catalogCall).children)).toEqual([SPAN.catalogServer]);
    expect(ids(node(doc, SPAN.catalogServer).children)).toEqual([SPAN.query]);
    expect(ids(node(doc, SPAN.job).children)).toEqual([SPAN.chunk]);
    expect(ids(node(doc, SPAN.chunk).children)).toEqual([SPAN.attempt1, SPAN.attempt2]);
    expect(all(doc.spans)).toHaveLength(10);
    for (const n of all(doc.spans))
      for (const child of n.children) expect(child.parent_span_id).toBe(n.span_id);
  });

  it('keeps a span whose parent has not arrived at the top level, and says so in a note', () => {
    const orphan = node(doc, SPAN.orphan);
    expect(orphan.parent_span_id).toBe('ffffffffffffffff');
    expect(orphan.service).toBe('users');
    expect(doc.summary.notes).toEqual([
      'lake not read',
      '1 span has a parent that has not arrived; shown at the top level',
      'Jaeger: clock skew adjusted',
    ]);
  });

  it('gives each span its service, kind, offset from the trace start, duration and status', () => {
    expect(node(doc, SPAN.catalogServer)).toMatchObject({
      service: 'catalog',
      name: 'GET /catalog/search',
      kind: 'server',
      start_time: at(12),
      start_offset_ms: 12,
      duration_ms: 46,
      status: 'unset',
    });
    expect(node(doc, SPAN.search)).toMatchObject({ start_offset_ms: 0, duration_ms: 100, status: 'ok' });
    expect(node(doc, SPAN.attempt2).status).toBe('ok');
    expect(node(doc, SPAN.attempt1)).toMatchObject({ status: 'error', status_message: 'injected fault' });
  });

  it('reads an error from the error tag, with the exception events of the span (and only those)', () => {
    expect(node(doc, SPAN.query)).toMatchObject({
      status: 'error',
      status_message: 'boom',
      exceptions: [{ type: 'Error', message: 'db down' }],
    });
  });

  it('picks the key attributes in a fixed order, and names an outgoing call by its path', () => {
    expect(node(doc, SPAN.search).key_attributes).toEqual({
      'http.route': '/search',
      'http.response.status_code': 200,
    });
    expect(node(doc, SPAN.catalogCall).key_attributes).toEqual({
      'http.response.status_code': 500,
      'url.path': '/catalog/search',
    });
    expect(Object.keys(node(doc, SPAN.attempt1).key_attributes)).toEqual([
      'faas.coldstart',
      'etl.chunk.index',
      'etl.attempt',
    ]);
  });

  it("lists a producer's consumer children as the attempts of one message", () => {
    expect(node(doc, SPAN.chunk).attempts).toEqual([
      { span_id: SPAN.attempt1, attempt: 1, status: 'error' },
      { span_id: SPAN.attempt2, attempt: 2, status: 'ok' },
    ]);
    expect(node(doc, SPAN.search).attempts).toBeNull();
    expect(node(doc, SPAN.catalogCall).attempts).toBeNull();
  });

  it('follows the critical path into the async job that outlives the request, with each span’s self time', () => {
    // The request waits 0–10 ms on itself, 10–60 ms on the catalog call (which waits on the server, which waits
    // on the query), 60–90 ms on itself again; the job starts at 90 and is the last to end, so the render step
    // (65–95, ending after the job started) is not on the path. The chunk waits on attempt 1, backs off, then
    // waits on attempt 2.
    expect(doc.summary.critical_path.map((s) => [s.span_id, s.self_ms])).toEqual([
      [SPAN.search, 40],
      [SPAN.catalogCall, 4],
      [SPAN.catalogServer, 16],
      [SPAN.query, 30],
      [SPAN.job, 12],
      [SPAN.chunk, 13],
      [SPAN.attempt1, 15],
      [SPAN.attempt2, 20],
    ]);
    const total = doc.summary.critical_path.reduce((sum, s) => sum + s.self_ms, 0);
    expect(total).toBe(doc.summary.duration_ms);
    expect(doc.summary.critical_path[3]).toEqual({
      span_id: SPAN.query,
      service: 'catalog',
      name: 'query',
      self_ms: 30,
    });
  });

  it('marks exactly the spans of the critical path, with their self time', () => {
    const critical = all(doc.spans).filter((n) => n.critical);
    expect(ids(critical).sort()).toEqual(doc.summary.critical_path.map((s) => s.span_id).sort());
    expect(node(doc, SPAN.render)).toMatchObject({ critical: false, critical_ms: 0 });
    expect(node(doc, SPAN.orphan).critical).toBe(false);
    expect(node(doc, SPAN.search).critical_ms).toBe(40);
  });

  it('ties each log and event to its span when the span is in the trace, and sorts them by time', () => {
    expect(doc.logs.map((l) => [l.body, l.placed])).toEqual([
      ['from a span of another trace', false],
      ['no span at all', false],
      ['query started', true],
      ['query failed', true],
    ]);
    expect(doc.events.map((e) => [e.event_name, e.placed])).toEqual([['search_made', true]]);
  });

  it('summarises services, span and error counts, the time span, and the ETL job', () => {
    expect(doc.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(doc.summary).toMatchObject({
      services: ['catalog', 'etl-listener', 'etl-worker', 'gateway', 'users'],
      span_count: 10,
      start_time: T0,
      end_time: at(150),
      duration_ms: 150,
      error_count: 2,
      log_count: 4,
      event_count: 1,
    });
    expect(doc.summary.etl_jobs).toEqual([
      {
        job_id: 'job-1',
        kind: 'crop_stats',
        status: 'done',
        chunk_count: 1,
        invocations: 2,
        retried_chunks: 1,
        failed_invocations: 1,
        cold_starts: 1,
        cost_usd: 0.0001,
        billed_gb_seconds: 0.5,
      },
    ]);
  });

  it('starts the critical path at the earliest top-level span when every span has a missing parent', () => {
    const trace = fixtureTrace();
    trace.spans = trace.spans.filter((s) => s.spanID === SPAN.orphan);
    const lone = buildDocument(trace, [], []);
    expect(lone.summary.critical_path).toEqual([
      { span_id: SPAN.orphan, service: 'users', name: 'lookup', self_ms: 10 },
    ]);
    expect(lone.summary.duration_ms).toBe(10);
  });
});
