/**
 * Jaeger UI's trace views as pure functions (trace/analysis.ts): self time, the statistics per service and
 * operation, the flame graph's layout and zoom, and two traces aligned — on hand-made traces whose numbers can be
 * worked out by hand, the fixture search trace (./search-trace.ts) and an ETL job of 500 spans.
 */
import { describe, expect, it } from 'vitest';
import {
  allSpans,
  compareTraces,
  flameGraph,
  selfTime,
  traceStatistics,
  zoomFlame,
} from '../../trace/analysis.ts';
import type { JaegerSpan, JaegerTrace } from '../../trace/jaeger-client.ts';
import { buildDocument } from '../../trace/model.ts';
import type { TraceDocument } from '../../trace/types.ts';
import { fixtureDocument } from './search-trace.ts';

const T0 = Date.parse('2026-05-28T20:26:40.000Z') * 1000;

interface Spec {
  id: string;
  parent?: string;
  service: string;
  name: string;
  /** Milliseconds from the trace start. */
  start: number;
  duration: number;
  error?: boolean;
}

/** A Jaeger trace from a list of spans given in milliseconds, turned into the document the console renders. */
function doc(traceId: string, specs: Spec[]): TraceDocument {
  const services = [...new Set(specs.map((s) => s.service))];
  const spans: JaegerSpan[] = specs.map((s) => ({
    traceID: traceId,
    spanID: s.id.padStart(16, '0'),
    operationName: s.name,
    references: s.parent
      ? [{ refType: 'CHILD_OF', traceID: traceId, spanID: s.parent.padStart(16, '0') }]
      : [],
    startTime: T0 + s.start * 1000,
    duration: s.duration * 1000,
    tags: s.error ? [{ key: 'otel.status_code', value: 'ERROR' }] : [],
    logs: [],
    processID: `p${services.indexOf(s.service)}`,
  }));
  const processes = Object.fromEntries(services.map((name, i) => [`p${i}`, { serviceName: name }]));
  const trace: JaegerTrace = { traceID: traceId, spans, processes };
  return buildDocument(trace, [], []);
}

/** gateway GET /search 0–100 ms calls catalog twice (10–40, 30–60: overlapping) and users once (70–80). */
const search = (traceId = 'a'.repeat(32), extra: Spec[] = []) =>
  doc(traceId, [
    { id: '1', service: 'gateway', name: 'GET /search', start: 0, duration: 100 },
    { id: '2', parent: '1', service: 'catalog', name: 'GET /catalog', start: 10, duration: 30 },
    { id: '3', parent: '1', service: 'catalog', name: 'GET /catalog', start: 30, duration: 30 },
    { id: '4', parent: '1', service: 'users', name: 'GET /users', start: 70, duration: 10 },
    { id: '5', parent: '2', service: 'catalog', name: 'query', start: 12, duration: 20 },
    ...extra,
  ]);

/** An ETL job: one job span, `chunks` producer spans each with one consumer invocation under it. */
function etlJob(traceId: string, chunks: number, slowChunk = -1): TraceDocument {
  const specs: Spec[] = [
    { id: '1', service: 'etl-listener', name: 'etl job', start: 0, duration: chunks * 2 + 10 },
  ];
  for (let i = 0; i < chunks; i++) {
    const producer = (1000 + i).toString(16);
    specs.push({
      id: producer,
      parent: '1',
      service: 'etl-listener',
      name: 'chunk send',
      start: 1 + i * 2,
      duration: 1,
    });
    specs.push({
      id: (5000 + i).toString(16),
      parent: producer,
      service: 'etl-worker',
      name: 'chunk process',
      start: 1.2 + i * 2,
      duration: i === slowChunk ? 50 : 0.5,
    });
  }
  return doc(traceId, specs);
}

describe('Self time', () => {
  it('is the time no child covers, overlapping children counted once', () => {
    const root = search().spans[0]!;
    // Children cover 10–60 and 70–80: 60 of 100 ms.
    expect(selfTime(root)).toBe(40);
    expect(selfTime(root.children[0]!)).toBe(10);
  });

  it('counts a child that outlives its parent only up to the parent end', () => {
    const d = doc('b'.repeat(32), [
      { id: '1', service: 'gateway', name: 'POST /jobs', start: 0, duration: 10 },
      { id: '2', parent: '1', service: 'etl-listener', name: 'etl job', start: 5, duration: 500 },
    ]);
    expect(selfTime(d.spans[0]!)).toBe(5);
    expect(selfTime(d.spans[0]!.children[0]!)).toBe(500);
  });
});

describe('The trace statistics', () => {
  it('give per service and operation the count, total, self time, min, avg and max, most total time first', () => {
    const stats = traceStatistics(search());
    expect(stats.map((s) => `${s.service} ${s.name}`)).toEqual([
      'gateway GET /search',
      'catalog GET /catalog',
      'catalog query',
      'users GET /users',
    ]);
    expect(stats[1]).toEqual({
      service: 'catalog',
      name: 'GET /catalog',
      count: 2,
      errors: 0,
      total_ms: 60,
      self_ms: 40,
      min_ms: 30,
      avg_ms: 30,
      max_ms: 30,
    });
    expect(stats[0]).toMatchObject({ count: 1, total_ms: 100, self_ms: 40 });
  });

  it('add up, in self time, to the time the spans cover, and count errors', () => {
    const fixture = fixtureDocument();
    const stats = traceStatistics(fixture);
    expect(stats.reduce((n, s) => n + s.count, 0)).toBe(fixture.summary.span_count);
    expect(stats.reduce((n, s) => n + s.errors, 0)).toBe(fixture.summary.error_count);
    for (const row of stats) {
      expect(row.self_ms).toBeLessThanOrEqual(row.total_ms);
      expect(row.min_ms).toBeLessThanOrEqual(row.avg_ms);
      expect(row.avg_ms).toBeLessThanOrEqual(row.max_ms);
    }
  });
});

describe('The flame graph', () => {
  it('merges the spans of one path of service:operation, each box as wide as the self time under it', () => {
    const frames = flameGraph(search());
    const byName = (name: string) => frames.find((f) => f.name === name)!;
    // Self times: search 40, the two catalog calls 10 + 30 (they overlap: both count), query 20, users 10: 110.
    expect(byName('GET /search')).toMatchObject({
      depth: 0,
      x: 0,
      width: 1,
      self_ms: 40,
      value_ms: 110,
      count: 1,
    });
    expect(byName('GET /catalog')).toMatchObject({ depth: 1, x: 0, count: 2, self_ms: 40, value_ms: 60 });
    expect(byName('GET /catalog').width).toBeCloseTo(60 / 110);
    expect(byName('GET /users').x).toBeCloseTo(60 / 110);
    expect(byName('query')).toMatchObject({ depth: 2, x: 0, span_ids: ['0000000000000005'] });
    // The longest merged span first: the one a click opens.
    expect(byName('GET /catalog').span_ids).toHaveLength(2);
  });

  it('never lets boxes of one level overlap, nor a child leave its parent, on a trace with async work', () => {
    const frames = flameGraph(fixtureDocument());
    for (const frame of frames) {
      const parentId = frame.id.split('\u0000').slice(0, -1).join('\u0000');
      const parent = frames.find((f) => f.id === parentId);
      if (parent) {
        expect(frame.x).toBeGreaterThanOrEqual(parent.x - 1e-9);
        expect(frame.x + frame.width).toBeLessThanOrEqual(parent.x + parent.width + 1e-9);
      }
      const sameLevel = frames.filter((f) => f.depth === frame.depth && f !== frame);
      for (const other of sameLevel)
        expect(other.x >= frame.x + frame.width - 1e-9 || other.x + other.width <= frame.x + 1e-9).toBe(true);
    }
  });

  it('zooms on a box: it spans the whole width, its ancestors stay, everything else goes', () => {
    const frames = flameGraph(search());
    const catalog = frames.find((f) => f.name === 'GET /catalog')!;
    const zoomed = zoomFlame(frames, catalog.id);
    expect(zoomed.map((f) => f.name).sort()).toEqual(['GET /catalog', 'GET /search', 'query']);
    expect(zoomed.find((f) => f.name === 'GET /catalog')).toMatchObject({ x: 0, width: 1 });
    expect(zoomed.find((f) => f.name === 'GET /search')).toMatchObject({ x: 0, width: 1 });
    expect(zoomed.find((f) => f.name === 'query')!.width).toBeCloseTo(20 / 60);
    expect(zoomFlame(frames, 'no such box')).toBe(frames);
  });

  it('draws an ETL job of 500 spans as a few boxes, the chunks counted', () => {
    const job = etlJob('c'.repeat(32), 249);
    expect(allSpans(job.spans)).toHaveLength(499);
    const frames = flameGraph(job);
    expect(frames.map((f) => [f.name, f.count])).toEqual([
      ['etl job', 1],
      ['chunk send', 249],
      ['chunk process', 249],
    ]);
  });
});

describe('Two traces compared', () => {
  it('aligns two searches of one route by service and operation, marking what only one has, with differences', () => {
    const a = search('a'.repeat(32));
    const b = search('b'.repeat(32), [
      {
        id: '6',
        parent: '1',
        service: 'downloads',
        name: 'GET /downloads',
        start: 85,
        duration: 10,
        error: true,
      },
    ]);
    const comparison = compareTraces(a, b);
    expect(comparison.rows.map((r) => [r.depth, r.name, r.presence])).toEqual([
      [0, 'GET /search', 'both'],
      [1, 'GET /catalog', 'both'],
      [2, 'query', 'both'],
      [1, 'GET /users', 'both'],
      [1, 'GET /downloads', 'only-b'],
    ]);
    expect(comparison.rows[4]).toMatchObject({
      a: { count: 0, total_ms: 0 },
      b: { count: 1, total_ms: 10, self_ms: 10, errors: 1 },
      diff_count: 1,
      diff_total_ms: 10,
    });
    expect(comparison.rows[0]).toMatchObject({ diff_count: 0, diff_total_ms: 0, diff_self_ms: -10 });
    expect([comparison.only_a, comparison.only_b]).toEqual([0, 1]);
    expect(comparison.a.critical_path.length).toBeGreaterThan(0);
    expect(comparison.b.critical_path.map((s) => s.service)).toContain('gateway');
    expect(comparison.services.find((s) => s.service === 'downloads')).toMatchObject({
      a_self_ms: 0,
      b_self_ms: 10,
      diff_self_ms: 10,
    });
  });

  it('compares two runs of one ETL job: the chunk counts and the slow chunk time', () => {
    const comparison = compareTraces(etlJob('d'.repeat(32), 100), etlJob('e'.repeat(32), 120, 7));
    const chunk = comparison.rows.find((r) => r.name === 'chunk process')!;
    expect(chunk).toMatchObject({ presence: 'both', a: { count: 100 }, b: { count: 120 }, diff_count: 20 });
    expect(chunk.diff_total_ms).toBeCloseTo(20 * 0.5 + 49.5);
    expect(comparison.only_a + comparison.only_b).toBe(0);
  });

  it('marks everything of a trace of another route as present in one trace only', () => {
    const comparison = compareTraces(fixtureDocument(), etlJob('f'.repeat(32), 3));
    expect(comparison.rows.filter((r) => r.presence === 'both')).toEqual([]);
    expect(comparison.a.trace_id).toBe(fixtureDocument().trace_id);
    expect(comparison.only_a).toBe(comparison.rows.filter((r) => r.a.count > 0).length);
    expect(comparison.only_b).toBe(3);
  });
});
