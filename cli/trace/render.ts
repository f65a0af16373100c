/**
 * The text view of a TraceDocument: a waterfall (tree, service, operation, key attributes, start offset, a bar
 * proportional to the duration, duration, status) with each span's logs and events under it, then the logs and
 * events no span claims, then each process's resource, then the summary. Colour and Unicode only on a terminal; plain ASCII when piped.
 */
import { ATTRIBUTES, SEMCONV } from '../../common/names.ts';
import type { EventEntry, LogEntry, ProcessEntry, SpanNode, TraceDocument } from '../../trace/index.ts';

export interface RenderOptions {
  /** ANSI colours and Unicode box drawing. */
  color: boolean;
  /** Characters per line. */
  width: number;
}

const SHORT: Record<string, string> = {
  [SEMCONV.httpRoute]: 'route',
  [SEMCONV.httpResponseStatusCode]: 'status',
  'rpc.method': 'rpc',
  [SEMCONV.faasColdstart]: 'coldstart',
  [ATTRIBUTES.chunkIndex]: 'chunk',
  [ATTRIBUTES.attempt]: 'attempt',
  [SEMCONV.urlPath]: 'path',
};

const ANSI = {
  red: '\x1b[31m',
  yellow: '\x1b[33m',
  green: '\x1b[32m',
  cyan: '\x1b[36m',
  magenta: '\x1b[35m',
  dim: '\x1b[2m',
  bold: '\x1b[1m',
  reset: '\x1b[0m',
};

type Colour = keyof typeof ANSI;

const UNICODE = {
  tee: '├─ ',
  last: '└─ ',
  pipe: '│  ',
  blank: '   ',
  full: '█',
  empty: '·',
  critical: '◆',
  log: '·',
  event: '◇',
  more: '…',
  arrow: '→',
};

const ASCII: typeof UNICODE = {
  tee: '|- ',
  last: '`- ',
  pipe: '|  ',
  blank: '   ',
  full: '#',
  empty: '.',
  critical: '*',
  log: '-',
  event: '>',
  more: '~',
  arrow: '->',
};

/** What every stage draws with: colours, glyphs and the column layout for this document and terminal. */
interface Canvas {
  color: boolean;
  width: number;
  paint: (code: Colour, text: string) => string;
  glyph: typeof UNICODE;
  totalMs: number;
  barWidth: number;
  /** The tree, service, operation and key attributes column. */
  leftWidth: number;
}

function canvasFor(doc: TraceDocument, options: RenderOptions): Canvas {
  const { color } = options;
  const width = Math.max(60, options.width);
  const barWidth = Math.min(40, Math.max(10, Math.floor(width / 5)));
  // offset (9) + space + bar + space + duration (9) + space + status (5)
  const rightWidth = 9 + 1 + barWidth + 1 + 9 + 1 + 5;
  return {
    color,
    width,
    paint: (code, text) => (color ? `${ANSI[code]}${text}${ANSI.reset}` : text),
    glyph: color ? UNICODE : ASCII,
    totalMs: Math.max(doc.summary.duration_ms, 0.001),
    barWidth,
    leftWidth: width - rightWidth - 2,
  };
}

/**
 * Stages: the heading, the waterfall with logs and events under their spans, the unplaced ones, the processes'
 * resources, the summary.
 */
export function renderText(doc: TraceDocument, options: RenderOptions): string {
  const canvas = canvasFor(doc, options);
  const lines = [
    ...renderHeading(doc, canvas),
    ...renderWaterfall(doc, canvas),
    ...renderUnplaced(doc, canvas),
    ...renderProcesses(doc, canvas),
    ...renderSummary(doc, canvas),
  ];
  return `${lines.join('\n')}\n`;
}

function renderHeading(doc: TraceDocument, { paint, leftWidth, barWidth }: Canvas): string[] {
  return [
    paint('bold', `trace ${doc.trace_id}`) +
      `  ${doc.summary.span_count} spans, ${doc.summary.services.length} services, ${formatMs(doc.summary.duration_ms)}` +
      `  (started ${doc.summary.start_time})`,
    paint(
      'dim',
      `${'  span'.padEnd(leftWidth + 2)}${'start'.padStart(9)} ${''.padEnd(barWidth)} ${'duration'.padStart(9)} status`,
    ),
  ];
}

/** One indented detail line (a log, an event, an exception), cut to the width. */
function detailLine(canvas: Canvas, prefix: string, text: string, code?: Colour): string {
  const line = fit(`${prefix}${text}`, canvas.width - 2, canvas.glyph.more);
  return `  ${code ? canvas.paint(code, line) : line}`;
}

function renderWaterfall(doc: TraceDocument, canvas: Canvas): string[] {
  const { glyph } = canvas;
  const logsBySpan = group(doc.logs.filter((l) => l.placed));
  const eventsBySpan = group(doc.events.filter((e) => e.placed));
  const lines: string[] = [];
  const visit = (
    node: SpanNode,
    prefix: string,
    connector: string,
    childPrefix: string,
    label: string | null,
  ) => {
    lines.push(spanLine(canvas, node, prefix, connector, label));
    const inner = prefix + childPrefix;
    const under = inner + (node.children.length > 0 ? glyph.pipe : glyph.blank);
    for (const text of spanProblems(node)) lines.push(detailLine(canvas, under, text, 'red'));
    for (const log of logsBySpan.get(node.span_id) ?? [])
      lines.push(detailLine(canvas, under, `${glyph.log} ${formatLog(log)}`, severityColour(log)));
    for (const event of eventsBySpan.get(node.span_id) ?? [])
      lines.push(detailLine(canvas, under, `${glyph.event} ${formatEvent(event)}`, 'magenta'));
    const attempts = new Map(
      (node.attempts ?? []).map((a, i, all) => [a.span_id, `attempt ${i + 1}/${all.length}: `]),
    );
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      const childLabel = attempts.get(child.span_id) ?? null;
      visit(child, inner, last ? glyph.last : glyph.tee, last ? glyph.blank : glyph.pipe, childLabel);
    });
  };
  for (const root of doc.spans) visit(root, '', '', '', null);
  return lines;
}

/** The span's exceptions, or its status message when it failed without one. */
function spanProblems(node: SpanNode): string[] {
  const problems = node.exceptions.map((e) => `! ${[e.type, e.message].filter(Boolean).join(': ')}`);
  if (node.status === 'error' && node.exceptions.length === 0 && node.status_message)
    problems.push(`! ${node.status_message}`);
  return problems;
}

/** One waterfall row: critical marker, tree and title, start offset, duration bar, duration, status. */
function spanLine(
  canvas: Canvas,
  node: SpanNode,
  prefix: string,
  connector: string,
  label: string | null,
): string {
  const { paint, glyph, leftWidth } = canvas;
  const marker = node.critical ? paint('yellow', glyph.critical) : ' ';
  const attrs = Object.entries(node.key_attributes)
    .map(([k, v]) => `${SHORT[k] ?? k}=${String(v)}`)
    .join(' ');
  const title = `${label ?? ''}${node.service} ${node.name}`;
  const visibleLeft = fit(`${prefix}${connector}${title}${attrs ? `  ${attrs}` : ''}`, leftWidth, glyph.more);
  const left = canvas.color ? styleTitle(canvas, visibleLeft, title, node, label) : visibleLeft;
  const status = node.status === 'error' ? paint('red', 'ERROR') : node.status === 'ok' ? 'ok' : '';
  return (
    `${marker} ${left}${' '.repeat(Math.max(0, leftWidth - visibleLeft.length))}` +
    `${formatOffset(node.start_offset_ms).padStart(9)} ${durationBar(canvas, node)} ${formatMs(node.duration_ms).padStart(9)} ${status}`.trimEnd()
  );
}

/** Colours the service and operation inside the (already cut) left column; the rest is dimmed. */
function styleTitle(
  canvas: Canvas,
  left: string,
  title: string,
  node: SpanNode,
  label: string | null,
): string {
  const { paint } = canvas;
  const at = left.indexOf(title);
  if (at < 0) return left;
  const styled = `${paint('cyan', node.service)} ${node.status === 'error' ? paint('red', node.name) : node.name}`;
  return (
    left.slice(0, at) +
    (label ? paint('dim', label) : '') +
    styled +
    paint('dim', left.slice(at + title.length))
  );
}

function durationBar(canvas: Canvas, node: SpanNode): string {
  const { barWidth, totalMs, glyph } = canvas;
  const from = Math.floor((node.start_offset_ms / totalMs) * barWidth);
  const size = Math.max(1, Math.round((node.duration_ms / totalMs) * barWidth));
  const start = Math.min(from, barWidth - 1);
  const filled = Math.min(size, barWidth - start);
  const bar =
    glyph.empty.repeat(start) + glyph.full.repeat(filled) + glyph.empty.repeat(barWidth - start - filled);
  if (!canvas.color) return bar;
  return canvas.paint(node.status === 'error' ? 'red' : node.critical ? 'yellow' : 'green', bar);
}

function renderUnplaced(doc: TraceDocument, canvas: Canvas): string[] {
  const { glyph } = canvas;
  const logs = doc.logs.filter((l) => !l.placed);
  const events = doc.events.filter((e) => !e.placed);
  if (logs.length + events.length === 0) return [];
  return [
    '',
    canvas.paint('bold', 'not tied to a span of this trace'),
    ...logs.map((log) => detailLine(canvas, '', `${glyph.log} ${formatLog(log)}`, severityColour(log))),
    ...events.map((event) => detailLine(canvas, '', `${glyph.event} ${formatEvent(event)}`, 'magenta')),
  ];
}

function renderSummary(doc: TraceDocument, { paint, glyph }: Canvas): string[] {
  const s = doc.summary;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const pending = doc.events.filter((e) => e.source === 'raw').length;
  return [
    '',
    paint('bold', 'summary'),
    `  services       ${s.services.join(', ')}`,
    `  duration       ${formatMs(s.duration_ms)} (${s.start_time} ${glyph.arrow} ${s.end_time})`,
    `  errors         ${s.error_count === 0 ? 'none' : paint('red', plural(s.error_count, 'span'))}`,
    `  logs, events   ${plural(s.log_count, 'log record')}, ${plural(s.event_count, 'event')}` +
      (s.event_count > 0 ? ` (${pending} not compacted yet)` : ''),
    `  critical path  ${glyph.critical} marks the spans the request waited on; self time:`,
    ...s.critical_path.map(
      (step) => `                 ${formatMs(step.self_ms).padStart(9)}  ${step.service} ${step.name}`,
    ),
    ...s.etl_jobs.map(etlJobLine),
    ...s.notes.map((note) => `  note           ${note}`),
  ];
}

/** Each process's resource, `key=value` pairs wrapped to the width, and where it was read. */
function renderProcesses(doc: TraceDocument, canvas: Canvas): string[] {
  if (doc.processes.length === 0) return [];
  return ['', canvas.paint('bold', 'processes'), ...doc.processes.flatMap((p) => processLines(p, canvas))];
}

function processLines(process: ProcessEntry, { paint, width }: Canvas): string[] {
  const source =
    process.source === 'lake'
      ? 'the whole resource, from the lake'
      : "Jaeger's copy, without the repeated process attributes (the lake's once compacted)";
  const lines = [`  ${process.service} ${paint('dim', `(${source})`)}`];
  let line = '   ';
  for (const [key, value] of Object.entries(process.attributes).sort(([a], [b]) => a.localeCompare(b))) {
    const pair = ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
    if (line.length > 3 && line.length + pair.length > width) {
      lines.push(line);
      line = '   ';
    }
    line += pair;
  }
  if (line.length > 3) lines.push(line);
  return lines;
}

function etlJobLine(job: TraceDocument['summary']['etl_jobs'][number]): string {
  const cost = job.cost_usd === null ? 'cost not recorded yet' : `est. cost $${job.cost_usd.toPrecision(3)}`;
  const billed = job.billed_gb_seconds === null ? '' : ` (${job.billed_gb_seconds} GB-s billed)`;
  return (
    `  ETL job        ${job.job_id ?? '?'} ${job.kind ?? ''} ${job.status ?? 'running'}: ${job.chunk_count} chunks, ` +
    `${job.invocations} invocations (${job.retried_chunks} chunks retried, ${job.failed_invocations} failed, ` +
    `${job.cold_starts} cold starts), ${cost}${billed}`
  );
}

function group<T extends { span_id: string | null }>(items: T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const list = map.get(item.span_id!) ?? [];
    list.push(item);
    map.set(item.span_id!, list);
  }
  return map;
}

function formatLog(log: LogEntry): string {
  const body = typeof log.body === 'string' ? log.body : JSON.stringify(log.body);
  const attrs = Object.keys(log.attributes).length > 0 ? ` ${JSON.stringify(log.attributes)}` : '';
  return `${log.time.slice(11, 23)} ${log.severity.padEnd(5)} ${log.service ?? '?'}: ${body}${attrs}`;
}

function formatEvent(event: EventEntry): string {
  const rejected = event.rejected_reason ? ` REJECTED (${event.rejected_reason})` : '';
  const source = event.source === 'raw' ? ' [not compacted yet]' : '';
  return `${event.time.slice(11, 23)} event ${event.event_name}${rejected} ${event.service ?? '?'}: ${JSON.stringify(event.properties)}${source}`;
}

function severityColour(log: LogEntry): 'red' | 'yellow' | 'dim' | undefined {
  if (/^(ERROR|FATAL)/.test(log.severity)) return 'red';
  if (/^WARN/.test(log.severity)) return 'yellow';
  if (/^(DEBUG|TRACE)/.test(log.severity)) return 'dim';
  return undefined;
}

function fit(text: string, width: number, more: string): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - more.length))}${more}`;
}

export function formatMs(value: number): string {
  if (value >= 60_000) return `${(value / 60_000).toFixed(1)} min`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

function formatOffset(value: number): string {
  return `+${formatMs(value).replace(' ', '')}`;
}
