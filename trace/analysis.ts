/**
 * What Jaeger UI's trace views compute from a trace, over the `trace --json` document: each span's self time, the
 * statistics per service and operation ("Trace Statistics"), a flame graph's layout ("Flamegraph") and two traces
 * aligned by service and operation ("Trace Compare"). Pure functions with no I/O and no Node APIs: the console's
 * browser pages import them as they are.
 */
import type { CriticalStep, SpanNode, TraceDocument } from './types.ts';

/** One row of the statistics: the spans of one service and operation. */
export interface OperationStats {
  service: string;
  name: string;
  count: number;
  errors: number;
  /** Sum of the spans' durations (a span inside another of the same operation counts twice, as in Jaeger). */
  total_ms: number;
  /** Sum of the spans' self times: the time no child of theirs covered. */
  self_ms: number;
  min_ms: number;
  avg_ms: number;
  max_ms: number;
}

/** One box of the flame graph: the spans reached by one path of service:operation from a root, merged. */
export interface FlameFrame {
  /** The path of `service\u0001operation` keys from the root, joined by `\u0000`: stable across zooms. */
  id: string;
  service: string;
  name: string;
  depth: number;
  /** Left edge and width, as fractions of the whole graph (the roots' width together is 1). */
  x: number;
  width: number;
  /** Self time of the merged spans and of everything under them: what the box's width stands for. */
  value_ms: number;
  self_ms: number;
  count: number;
  /** The merged spans, longest first. */
  span_ids: string[];
}

/** One line of two traces aligned: the spans of one path of service:operation in each trace. */
export interface CompareRow {
  /** As FlameFrame.id. */
  path: string;
  service: string;
  name: string;
  depth: number;
  /** Which trace has spans on this path. */
  presence: 'both' | 'only-a' | 'only-b';
  a: CompareSide;
  b: CompareSide;
  /** b minus a. */
  diff_count: number;
  diff_total_ms: number;
  diff_self_ms: number;
}

export interface CompareSide {
  count: number;
  total_ms: number;
  self_ms: number;
  errors: number;
}

export interface TraceBrief {
  trace_id: string;
  root: string;
  duration_ms: number;
  span_count: number;
  error_count: number;
  critical_path: CriticalStep[];
}

/** Self time per service in each trace: where the time went, at a glance. */
export interface ServiceShare {
  service: string;
  a_self_ms: number;
  b_self_ms: number;
  diff_self_ms: number;
}

export interface TraceComparison {
  a: TraceBrief;
  b: TraceBrief;
  rows: CompareRow[];
  services: ServiceShare[];
  only_a: number;
  only_b: number;
}

/** Every span of the document, parents before their children. */
export function allSpans(roots: SpanNode[]): SpanNode[] {
  const out: SpanNode[] = [];
  const stack = [...roots].reverse();
  while (stack.length > 0) {
    const span = stack.pop()!;
    out.push(span);
    for (let i = span.children.length - 1; i >= 0; i--) stack.push(span.children[i]!);
  }
  return out;
}

/**
 * The time of a span that none of its children covers, within the span's own bounds. Children that run in parallel
 * count once (their union), and a child that outlives its parent (an async hand-off) only up to the parent's end.
 */
export function selfTime(span: SpanNode): number {
  const start = span.start_offset_ms;
  const end = start + span.duration_ms;
  const intervals = span.children
    .map(
      (c) => [Math.max(c.start_offset_ms, start), Math.min(c.start_offset_ms + c.duration_ms, end)] as const,
    )
    .filter(([from, to]) => to > from)
    .sort((p, q) => p[0] - q[0]);
  let covered = 0;
  let reach = start;
  for (const [from, to] of intervals) {
    if (to <= reach) continue;
    covered += to - Math.max(from, reach);
    reach = to;
  }
  return round(Math.max(span.duration_ms - covered, 0));
}

/** The statistics per service and operation, the operation with the most total time first. */
export function traceStatistics(doc: TraceDocument): OperationStats[] {
  const byKey = new Map<string, OperationStats>();
  for (const span of allSpans(doc.spans)) {
    const key = keyOf(span);
    let row = byKey.get(key);
    if (!row) {
      row = {
        service: span.service,
        name: span.name,
        count: 0,
        errors: 0,
        total_ms: 0,
        self_ms: 0,
      } as OperationStats;
      row.min_ms = Infinity;
      row.max_ms = 0;
      byKey.set(key, row);
    }
    row.count++;
    if (span.status === 'error') row.errors++;
    row.total_ms += span.duration_ms;
    row.self_ms += selfTime(span);
    row.min_ms = Math.min(row.min_ms, span.duration_ms);
    row.max_ms = Math.max(row.max_ms, span.duration_ms);
  }
  return [...byKey.values()]
    .map((r) => ({
      ...r,
      total_ms: round(r.total_ms),
      self_ms: round(r.self_ms),
      avg_ms: round(r.total_ms / r.count),
    }))
    .sort(
      (p, q) => q.total_ms - p.total_ms || p.service.localeCompare(q.service) || p.name.localeCompare(q.name),
    );
}

interface PathNode {
  id: string;
  service: string;
  name: string;
  depth: number;
  spans: SpanNode[];
  self_ms: number;
  value_ms: number;
  children: PathNode[];
}

/**
 * The spans merged by their path of service:operation from a root (Jaeger's flame graph does the same: the 200
 * chunks of an ETL job are one box, 200 wide in count), each box as wide as the self time under it, so that the
 * boxes of one level never overlap even when children ran in parallel or outlived their parent.
 */
export function flameGraph(doc: TraceDocument): FlameFrame[] {
  const roots = mergePaths(doc.spans, '', 0);
  const total = roots.reduce((n, r) => n + r.value_ms, 0);
  const frames: FlameFrame[] = [];
  const place = (node: PathNode, x: number) => {
    const width = total > 0 ? node.value_ms / total : 0;
    frames.push({
      id: node.id,
      service: node.service,
      name: node.name,
      depth: node.depth,
      x,
      width,
      value_ms: round(node.value_ms),
      self_ms: round(node.self_ms),
      count: node.spans.length,
      span_ids: [...node.spans].sort((p, q) => q.duration_ms - p.duration_ms).map((s) => s.span_id),
    });
    let at = x;
    for (const child of node.children) {
      place(child, at);
      at += total > 0 ? child.value_ms / total : 0;
    }
  };
  let at = 0;
  for (const root of roots) {
    place(root, at);
    at += total > 0 ? root.value_ms / total : 0;
  }
  return frames;
}

/**
 * The frames seen when `focusId` is clicked: it and its descendants stretched to the full width, its ancestors kept
 * full width above it, everything else hidden. An unknown id leaves the graph as it is.
 */
export function zoomFlame(frames: FlameFrame[], focusId: string): FlameFrame[] {
  const focus = frames.find((f) => f.id === focusId);
  if (!focus || focus.width === 0) return frames;
  const within = (f: FlameFrame) => f.id === focus.id || f.id.startsWith(`${focus.id}\u0000`);
  const above = (f: FlameFrame) => focus.id.startsWith(`${f.id}\u0000`);
  return frames.flatMap((f) => {
    if (above(f)) return [{ ...f, x: 0, width: 1 }];
    if (!within(f)) return [];
    return [{ ...f, x: (f.x - focus.x) / focus.width, width: f.width / focus.width }];
  });
}

/**
 * Two traces aligned by their paths of service:operation: for each path, the count, total and self time of its spans
 * in each trace and the differences (b − a), the paths only one trace has marked; each trace's critical path; and
 * the self time per service in each. Rows come in tree order (a path's children under it), a's order first.
 */
export function compareTraces(a: TraceDocument, b: TraceDocument): TraceComparison {
  const sideA = sidesByPath(mergePaths(a.spans, '', 0));
  const sideB = sidesByPath(mergePaths(b.spans, '', 0));
  const rows: CompareRow[] = [];
  const seen = new Set<string>();
  const visit = (nodes: PathNode[]) => {
    for (const node of nodes) {
      if (seen.has(node.id)) continue;
      seen.add(node.id);
      const left = sideA.get(node.id)?.side ?? EMPTY_SIDE;
      const right = sideB.get(node.id)?.side ?? EMPTY_SIDE;
      rows.push({
        path: node.id,
        service: node.service,
        name: node.name,
        depth: node.depth,
        presence: left.count === 0 ? 'only-b' : right.count === 0 ? 'only-a' : 'both',
        a: left,
        b: right,
        diff_count: right.count - left.count,
        diff_total_ms: round(right.total_ms - left.total_ms),
        diff_self_ms: round(right.self_ms - left.self_ms),
      });
      // Children of this path in either trace, a's first.
      visit([...(sideA.get(node.id)?.node.children ?? []), ...(sideB.get(node.id)?.node.children ?? [])]);
    }
  };
  visit([...rootsOf(sideA), ...rootsOf(sideB)]);
  return {
    a: brief(a),
    b: brief(b),
    rows,
    services: serviceShares(a, b),
    only_a: rows.filter((r) => r.presence === 'only-a').length,
    only_b: rows.filter((r) => r.presence === 'only-b').length,
  };
}

const EMPTY_SIDE: CompareSide = { count: 0, total_ms: 0, self_ms: 0, errors: 0 };

function rootsOf(sides: Map<string, { node: PathNode }>): PathNode[] {
  return [...sides.values()].filter((s) => s.node.depth === 0).map((s) => s.node);
}

function sidesByPath(roots: PathNode[]): Map<string, { node: PathNode; side: CompareSide }> {
  const out = new Map<string, { node: PathNode; side: CompareSide }>();
  const visit = (node: PathNode) => {
    out.set(node.id, {
      node,
      side: {
        count: node.spans.length,
        total_ms: round(node.spans.reduce((n, s) => n + s.duration_ms, 0)),
        self_ms: round(node.self_ms),
        errors: node.spans.filter((s) => s.status === 'error').length,
      },
    });
    node.children.forEach(visit);
  };
  roots.forEach(visit);
  return out;
}

/** Groups sibling spans (across all parents merged into one path) by service and operation, recursively. */
function mergePaths(spans: SpanNode[], parentId: string, depth: number): PathNode[] {
  const groups = new Map<string, SpanNode[]>();
  for (const span of spans) {
    const key = keyOf(span);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(span);
  }
  return [...groups.entries()].map(([key, members]) => {
    const id = parentId === '' ? key : `${parentId}\u0000${key}`;
    const children = mergePaths(
      members.flatMap((m) => m.children),
      id,
      depth + 1,
    );
    const self = members.reduce((n, m) => n + selfTime(m), 0);
    return {
      id,
      service: members[0]!.service,
      name: members[0]!.name,
      depth,
      spans: members,
      self_ms: self,
      value_ms: self + children.reduce((n, c) => n + c.value_ms, 0),
      children,
    };
  });
}

function brief(doc: TraceDocument): TraceBrief {
  const root = doc.spans[0];
  return {
    trace_id: doc.trace_id,
    root: root ? `${root.service}: ${root.name}` : '',
    duration_ms: doc.summary.duration_ms,
    span_count: doc.summary.span_count,
    error_count: doc.summary.error_count,
    critical_path: doc.summary.critical_path,
  };
}

function serviceShares(a: TraceDocument, b: TraceDocument): ServiceShare[] {
  const shares = new Map<string, ServiceShare>();
  const add = (doc: TraceDocument, field: 'a_self_ms' | 'b_self_ms') => {
    for (const span of allSpans(doc.spans)) {
      const share = shares.get(span.service) ?? {
        service: span.service,
        a_self_ms: 0,
        b_self_ms: 0,
        diff_self_ms: 0,
      };
      share[field] += selfTime(span);
      shares.set(span.service, share);
    }
  };
  add(a, 'a_self_ms');
  add(b, 'b_self_ms');
  return [...shares.values()]
    .map((s) => ({
      ...s,
      a_self_ms: round(s.a_self_ms),
      b_self_ms: round(s.b_self_ms),
      diff_self_ms: round(s.b_self_ms - s.a_self_ms),
    }))
    .sort((p, q) => Math.max(q.a_self_ms, q.b_self_ms) - Math.max(p.a_self_ms, p.b_self_ms));
}

const keyOf = (span: SpanNode): string => `${span.service}\u0001${span.name}`;

/** To the microsecond, as the document's own durations. */
const round = (ms: number): number => Math.round(ms * 1000) / 1000;
