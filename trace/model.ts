/**
 * A Jaeger trace, its logs and its events as one document: the span tree, each log and event tied to its span, the
 * critical path and a summary. Pure functions: no I/O here.
 */
import { ATTRIBUTES, SEMCONV } from '../common/names.ts';
import type { JaegerSpan, JaegerTag, JaegerTrace } from './jaeger-client.ts';
import type { LakeResource } from './lake-trace.ts';
import type {
  CriticalStep,
  EtlJobSummary,
  EventEntry,
  LogEntry,
  ProcessEntry,
  SpanException,
  SpanNode,
  SpanStatus,
  TraceDocument,
} from './types.ts';

/** Attributes shown inline, in this order. */
const KEY_ATTRIBUTES = [
  SEMCONV.httpRoute,
  SEMCONV.httpResponseStatusCode,
  'rpc.method',
  SEMCONV.faasColdstart,
  ATTRIBUTES.chunkIndex,
  ATTRIBUTES.attempt,
] as const;

const ETL = {
  attempt: ATTRIBUTES.attempt,
  costUsd: ATTRIBUTES.costServerlessUsd,
  billedGbSeconds: ATTRIBUTES.billedGbSeconds,
} as const;

interface Working {
  node: SpanNode;
  /** Microseconds since the epoch. */
  start: number;
  end: number;
  /** The end of the span or of any descendant, whichever is later (async work outlives its parent). */
  reach: number;
  children: Working[];
}

/**
 * Stages: index the spans (Jaeger may repeat one), link them into a tree, mark the critical path, place each log and
 * event under its span, take each process's resource (the lake's whole one where it has it), summarize.
 */
export function buildDocument(
  trace: JaegerTrace,
  logs: LogEntry[],
  events: EventEntry[],
  notes: string[] = [],
  lakeResources: LakeResource[] = [],
): TraceDocument {
  const traceStart = Math.min(...trace.spans.map((s) => s.startTime));
  const traceEnd = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
  const byId = indexSpans(trace, traceStart);
  const { roots, orphans } = linkTree(byId);
  const criticalPath = markCriticalPath(roots, byId);
  placeEntries(logs, events, new Set(byId.keys()));
  const nodes = [...byId.values()].map((w) => w.node);
  const processes = processesOf(trace, lakeResources);
  return {
    trace_id: trace.traceID,
    spans: roots.map((r) => r.node),
    processes,
    logs,
    events,
    summary: {
      services: [...new Set(nodes.map((n) => n.service))].sort(),
      span_count: nodes.length,
      start_time: isoFromMicros(traceStart),
      end_time: isoFromMicros(traceEnd),
      duration_ms: ms(traceEnd - traceStart),
      error_count: nodes.filter((n) => n.status === 'error').length,
      critical_path: criticalPath,
      log_count: logs.length,
      event_count: events.length,
      etl_jobs: etlJobs(roots.map((r) => r.node)),
      notes: documentNotes(notes, orphans, trace),
    },
  };
}

function indexSpans(trace: JaegerTrace, traceStart: number): Map<string, Working> {
  const byId = new Map<string, Working>();
  for (const span of trace.spans) {
    if (byId.has(span.spanID)) continue; // Jaeger can return a span twice when it was exported twice.
    const end = span.startTime + span.duration;
    byId.set(span.spanID, {
      node: toNode(span, trace, traceStart),
      start: span.startTime,
      end,
      reach: end,
      children: [],
    });
  }
  return byId;
}

/**
 * Hangs each span under its parent; spans whose parent has not arrived (orphans) become roots. Children are ordered
 * by start, and each span's reach and attempts are filled in from its children.
 */
function linkTree(byId: Map<string, Working>): { roots: Working[]; orphans: number } {
  const roots: Working[] = [];
  let orphans = 0;
  for (const item of byId.values()) {
    const parent = item.node.parent_span_id ? byId.get(item.node.parent_span_id) : undefined;
    if (parent) parent.children.push(item);
    else {
      roots.push(item);
      if (item.node.parent_span_id) orphans++;
    }
  }
  const order = (a: Working, b: Working) => a.start - b.start || a.node.name.localeCompare(b.node.name);
  const finish = (item: Working): number => {
    item.children.sort(order);
    for (const child of item.children) item.reach = Math.max(item.reach, finish(child));
    item.node.children = item.children.map((c) => c.node);
    item.node.attempts = attemptsOf(item.node);
    return item.reach;
  };
  roots.sort(order);
  for (const root of roots) finish(root);
  return { roots, orphans };
}

function markCriticalPath(roots: Working[], byId: Map<string, Working>): CriticalStep[] {
  const criticalPath = roots.length > 0 ? criticalPathOf(entryOf(roots), byId) : [];
  for (const step of criticalPath) {
    const node = byId.get(step.span_id)!.node;
    node.critical = true;
    node.critical_ms = step.self_ms;
  }
  return criticalPath;
}

/** Marks the logs and events whose span is in the trace as placed, and puts both in time order (in place). */
function placeEntries(logs: LogEntry[], events: EventEntry[], spanIds: Set<string>): void {
  for (const entry of [...logs, ...events])
    entry.placed = entry.span_id !== null && spanIds.has(entry.span_id);
  logs.sort((a, b) => a.time.localeCompare(b.time));
  events.sort((a, b) => a.time.localeCompare(b.time) || a.event_id.localeCompare(b.event_id));
}

/**
 * Each of Jaeger's processes with its resource: the lake's whole one when the lake has a resource of the same service
 * that agrees with every attribute Jaeger kept (Jaeger's copy lacks the process attributes the Collector drops on its
 * path), else Jaeger's.
 */
export function processesOf(trace: JaegerTrace, lakeResources: LakeResource[]): ProcessEntry[] {
  const seen = new Set<string>();
  const processes: ProcessEntry[] = [];
  for (const process of Object.values(trace.processes)) {
    const kept: Record<string, unknown> = { 'service.name': process.serviceName };
    for (const tag of process.tags ?? []) kept[tag.key] = tag.value;
    const whole = lakeResources.find(
      (r) =>
        r.service === process.serviceName &&
        Object.entries(kept).every(([k, v]) => !(k in r.attributes) || String(r.attributes[k]) === String(v)),
    );
    const entry: ProcessEntry = whole
      ? { service: process.serviceName, attributes: { ...kept, ...whole.attributes }, source: 'lake' }
      : { service: process.serviceName, attributes: kept, source: 'jaeger' };
    const key = JSON.stringify([entry.service, Object.entries(entry.attributes).sort()]);
    if (seen.has(key)) continue;
    seen.add(key);
    processes.push(entry);
  }
  return processes.sort((a, b) => a.service.localeCompare(b.service));
}

function documentNotes(notes: string[], orphans: number, trace: JaegerTrace): string[] {
  const all = [...notes];
  if (orphans > 0) {
    all.push(
      `${orphans} span${orphans === 1 ? ' has a parent that has' : 's have parents that have'} not arrived; shown at the top level`,
    );
  }
  for (const warning of trace.warnings ?? []) all.push(`Jaeger: ${warning}`);
  return all;
}

function toNode(span: JaegerSpan, trace: JaegerTrace, traceStart: number): SpanNode {
  const attributes: Record<string, unknown> = {};
  for (const tag of span.tags) attributes[tag.key] = tag.value;
  const parent =
    span.references.find((r) => r.refType === 'CHILD_OF' && r.traceID === trace.traceID) ??
    span.references.find((r) => r.traceID === trace.traceID);
  return {
    span_id: span.spanID,
    parent_span_id: parent?.spanID ?? null,
    service: trace.processes[span.processID]?.serviceName ?? 'unknown',
    name: span.operationName,
    kind: String(attributes['span.kind'] ?? 'internal'),
    start_time: isoFromMicros(span.startTime),
    start_offset_ms: ms(span.startTime - traceStart),
    duration_ms: ms(span.duration),
    status: statusOf(attributes),
    status_message:
      attributes['otel.status_description'] === undefined
        ? null
        : String(attributes['otel.status_description']),
    exceptions: exceptionsOf(span),
    key_attributes: keyAttributesOf(attributes),
    attributes,
    critical: false,
    critical_ms: 0,
    attempts: null,
    children: [],
  };
}

/** The span's `exception` events. */
function exceptionsOf(span: JaegerSpan): SpanException[] {
  const exceptions: SpanException[] = [];
  for (const log of span.logs ?? []) {
    const fields = Object.fromEntries(log.fields.map((f: JaegerTag) => [f.key, f.value]));
    if (fields.event !== 'exception') continue;
    exceptions.push({
      type: fields['exception.type'] === undefined ? null : String(fields['exception.type']),
      message: fields['exception.message'] === undefined ? null : String(fields['exception.message']),
      stacktrace:
        fields['exception.stacktrace'] === undefined ? null : String(fields['exception.stacktrace']),
    });
  }
  return exceptions;
}

function statusOf(attributes: Record<string, unknown>): SpanStatus {
  const statusCode = String(attributes['otel.status_code'] ?? '').toUpperCase();
  return attributes.error === true || statusCode === 'ERROR' ? 'error' : statusCode === 'OK' ? 'ok' : 'unset';
}

/** The attributes shown inline (KEY_ATTRIBUTES, in that order). */
function keyAttributesOf(attributes: Record<string, unknown>): Record<string, unknown> {
  const key: Record<string, unknown> = {};
  for (const name of KEY_ATTRIBUTES) if (attributes[name] !== undefined) key[name] = attributes[name];
  // An outgoing HTTP call is named only by its method: its path says where it went.
  if (attributes['span.kind'] === 'client' && attributes['url.path'] !== undefined && !key['rpc.method']) {
    key['url.path'] = attributes['url.path'];
  }
  return key;
}

/** A producer's consumer children are deliveries of one message: for an ETL chunk, one invocation per attempt. */
function attemptsOf(node: SpanNode): SpanNode['attempts'] {
  if (node.kind !== 'producer') return null;
  const consumers = node.children.filter((c) => c.kind === 'consumer');
  if (consumers.length === 0) return null;
  return consumers.map((c) => ({
    span_id: c.span_id,
    attempt: typeof c.attributes[ETL.attempt] === 'number' ? (c.attributes[ETL.attempt] as number) : null,
    status: c.status,
  }));
}

/** Where the request starts: a span without any parent reference, else the earliest top-level span. */
function entryOf(roots: Working[]): Working {
  return roots.find((r) => r.node.parent_span_id === null) ?? roots[0]!;
}

/**
 * The critical path, after Jaeger UI's algorithm: walk back from the end of a span; the last child to finish
 * before that point is what the span was waiting on, so recurse into it, then continue from that child's start;
 * the time no child covers is the span's own. Unlike Jaeger UI, a child that outlives its parent (an async hand-off
 * such as the ETL job a request starts) is followed rather than cut at the parent's end, so the path covers the
 * whole flow up to the last span's end.
 */
function criticalPathOf(entry: Working, byId: Map<string, Working>): CriticalStep[] {
  const sections: { id: string; from: number; to: number }[] = [];
  const walk = (item: Working, until: number) => {
    let cursor = until;
    // A child counts by its own end: its descendants may end a hair later (clocks of two processes, a server span
    // closing after the client saw the answer), which must not hide it from the path.
    const byEnd = [...item.children].sort((a, b) => b.end - a.end || b.start - a.start);
    for (const child of byEnd) {
      if (cursor <= item.start) break;
      if (child.end > cursor) continue; // It ran alongside a later one: not what the span was waiting on.
      if (child.end <= item.start) continue;
      // The child's part of the path runs to its reach, cut where the parent's cursor is, so that the sections
      // still partition the whole duration.
      const upTo = Math.min(child.reach, cursor);
      if (upTo < cursor) sections.push({ id: item.node.span_id, from: upTo, to: cursor });
      walk(child, upTo);
      cursor = Math.max(child.start, item.start);
    }
    if (cursor > item.start) sections.push({ id: item.node.span_id, from: item.start, to: cursor });
  };
  walk(entry, entry.reach);
  const steps = new Map<string, { first: number; micros: number }>();
  for (const section of sections) {
    const step = steps.get(section.id) ?? { first: section.from, micros: 0 };
    step.first = Math.min(step.first, section.from);
    step.micros += section.to - section.from;
    steps.set(section.id, step);
  }
  return [...steps.entries()]
    .sort((a, b) => a[1].first - b[1].first)
    .map(([id, step]) => {
      const node = byId.get(id)!.node;
      return { span_id: id, service: node.service, name: node.name, self_ms: ms(step.micros) };
    });
}

function etlJobs(roots: SpanNode[]): EtlJobSummary[] {
  const all: SpanNode[] = [];
  const visit = (node: SpanNode) => {
    all.push(node);
    node.children.forEach(visit);
  };
  roots.forEach(visit);
  const jobs = all.filter(
    (n) =>
      n.kind === 'internal' &&
      n.attributes[ATTRIBUTES.jobKind] !== undefined &&
      n.attributes[SEMCONV.faasName] === undefined,
  );
  return jobs.map((job) => {
    const id = job.attributes[ATTRIBUTES.jobId];
    const mine = all.filter((n) => n.attributes[ATTRIBUTES.jobId] === id);
    const producers = mine.filter((n) => n.kind === 'producer');
    const invocations = mine.filter((n) => n.kind === 'consumer');
    const chunkIndexes = new Set(producers.map((p) => p.attributes[ATTRIBUTES.chunkIndex]));
    const count = job.attributes[ATTRIBUTES.chunkCount];
    return {
      job_id: id === undefined ? null : String(id),
      kind: String(job.attributes[ATTRIBUTES.jobKind]),
      status:
        job.attributes[ATTRIBUTES.jobStatus] === undefined
          ? null
          : String(job.attributes[ATTRIBUTES.jobStatus]),
      chunk_count: typeof count === 'number' ? count : chunkIndexes.size,
      invocations: invocations.length,
      retried_chunks: producers.filter((p) => (p.attempts?.length ?? 0) > 1).length,
      failed_invocations: invocations.filter((i) => i.status === 'error').length,
      cold_starts: invocations.filter((i) => i.attributes[SEMCONV.faasColdstart] === true).length,
      cost_usd: numberOrNull(job.attributes[ETL.costUsd]),
      billed_gb_seconds: numberOrNull(job.attributes[ETL.billedGbSeconds]),
    };
  });
}

const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/** Milliseconds from microseconds, to the microsecond. */
const ms = (micros: number): number => Math.round(micros) / 1000;

const isoFromMicros = (micros: number): string => new Date(Math.floor(micros / 1000)).toISOString();
