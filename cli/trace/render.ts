/**
 * The text view of a TraceDocument: a waterfall (tree, service, operation, key attributes, start offset, a bar
 * proportional to the duration, duration, status) with each span's logs and events under it, then the logs and
 * events no span claims, then the summary. Colour and Unicode only on a terminal; plain ASCII when piped.
 */
import { ATTRIBUTES, SEMCONV } from '../../common/names.ts';
import type { EventEntry, LogEntry, SpanNode, TraceDocument } from './types.ts';

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

export function renderText(doc: TraceDocument, options: RenderOptions): string {
  const { color } = options;
  const width = Math.max(60, options.width);
  const paint = (code: keyof typeof ANSI, text: string) =>
    color ? `${ANSI[code]}${text}${ANSI.reset}` : text;
  const glyph = color
    ? {
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
      }
    : {
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
  const totalMs = Math.max(doc.summary.duration_ms, 0.001);
  const barWidth = Math.min(40, Math.max(10, Math.floor(width / 5)));
  // offset (9) + space + bar + space + duration (9) + space + status (5)
  const rightWidth = 9 + 1 + barWidth + 1 + 9 + 1 + 5;
  const leftWidth = width - rightWidth - 2;

  const logsBySpan = group(doc.logs.filter((l) => l.placed));
  const eventsBySpan = group(doc.events.filter((e) => e.placed));
  const lines: string[] = [];
  lines.push(
    paint('bold', `trace ${doc.trace_id}`) +
      `  ${doc.summary.span_count} spans, ${doc.summary.services.length} services, ${formatMs(doc.summary.duration_ms)}` +
      `  (started ${doc.summary.start_time})`,
  );
  lines.push(
    paint(
      'dim',
      `${'  span'.padEnd(leftWidth + 2)}${'start'.padStart(9)} ${''.padEnd(barWidth)} ${'duration'.padStart(9)} status`,
    ),
  );

  const spanLine = (node: SpanNode, prefix: string, connector: string, label: string | null) => {
    const marker = node.critical ? paint('yellow', glyph.critical) : ' ';
    const attrs = Object.entries(node.key_attributes)
      .map(([k, v]) => `${SHORT[k] ?? k}=${String(v)}`)
      .join(' ');
    const title = `${label ?? ''}${node.service} ${node.name}`;
    let left = `${prefix}${connector}${title}${attrs ? `  ${attrs}` : ''}`;
    left = fit(left, leftWidth, glyph.more);
    const visibleLeft = left;
    if (color) {
      const at = left.indexOf(title);
      if (at >= 0) {
        const styled = `${paint('cyan', node.service)} ${node.status === 'error' ? paint('red', node.name) : node.name}`;
        left =
          left.slice(0, at) +
          (label ? paint('dim', label) : '') +
          styled +
          paint('dim', left.slice(at + title.length));
      }
    }
    const from = Math.floor((node.start_offset_ms / totalMs) * barWidth);
    const size = Math.max(1, Math.round((node.duration_ms / totalMs) * barWidth));
    const start = Math.min(from, barWidth - 1);
    const filled = Math.min(size, barWidth - start);
    let bar =
      glyph.empty.repeat(start) + glyph.full.repeat(filled) + glyph.empty.repeat(barWidth - start - filled);
    if (color) bar = paint(node.status === 'error' ? 'red' : node.critical ? 'yellow' : 'green', bar);
    const status = node.status === 'error' ? paint('red', 'ERROR') : node.status === 'ok' ? 'ok' : '';
    lines.push(
      `${marker} ${left}${' '.repeat(Math.max(0, leftWidth - visibleLeft.length))}` +
        `${formatOffset(node.start_offset_ms).padStart(9)} ${bar} ${formatMs(node.duration_ms).padStart(9)} ${status}`.trimEnd(),
    );
  };

  const detail = (prefix: string, text: string, code?: keyof typeof ANSI) => {
    const line = fit(`${prefix}${text}`, width - 2, glyph.more);
    lines.push(`  ${code ? paint(code, line) : line}`);
  };

  const visit = (
    node: SpanNode,
    prefix: string,
    connector: string,
    childPrefix: string,
    label: string | null,
  ) => {
    spanLine(node, prefix, connector, label);
    const inner = prefix + childPrefix;
    const hasChildren = node.children.length > 0;
    const under = inner + (hasChildren ? glyph.pipe : glyph.blank);
    for (const exception of node.exceptions) {
      detail(under, `! ${[exception.type, exception.message].filter(Boolean).join(': ')}`, 'red');
    }
    if (node.status === 'error' && node.exceptions.length === 0 && node.status_message) {
      detail(under, `! ${node.status_message}`, 'red');
    }
    for (const log of logsBySpan.get(node.span_id) ?? [])
      detail(under, `${glyph.log} ${formatLog(log)}`, severityColour(log));
    for (const event of eventsBySpan.get(node.span_id) ?? [])
      detail(under, `${glyph.event} ${formatEvent(event)}`, 'magenta');
    const attempts = new Map(
      (node.attempts ?? []).map((a, i, all) => [a.span_id, `attempt ${i + 1}/${all.length}: `]),
    );
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      visit(
        child,
        inner,
        last ? glyph.last : glyph.tee,
        last ? glyph.blank : glyph.pipe,
        attempts.get(child.span_id) ?? null,
      );
    });
  };
  for (const root of doc.spans) visit(root, '', '', '', null);

  const unplacedLogs = doc.logs.filter((l) => !l.placed);
  const unplacedEvents = doc.events.filter((e) => !e.placed);
  if (unplacedLogs.length + unplacedEvents.length > 0) {
    lines.push('', paint('bold', 'not tied to a span of this trace'));
    for (const log of unplacedLogs) detail('', `${glyph.log} ${formatLog(log)}`, severityColour(log));
    for (const event of unplacedEvents) detail('', `${glyph.event} ${formatEvent(event)}`, 'magenta');
  }

  const s = doc.summary;
  lines.push('', paint('bold', 'summary'));
  lines.push(`  services       ${s.services.join(', ')}`);
  lines.push(`  duration       ${formatMs(s.duration_ms)} (${s.start_time} ${glyph.arrow} ${s.end_time})`);
  lines.push(
    `  errors         ${s.error_count === 0 ? 'none' : paint('red', `${s.error_count} span${s.error_count === 1 ? '' : 's'}`)}`,
  );
  lines.push(
    `  logs, events   ${s.log_count} log record${s.log_count === 1 ? '' : 's'}, ${s.event_count} event${s.event_count === 1 ? '' : 's'}` +
      (s.event_count > 0
        ? ` (${doc.events.filter((e) => e.source === 'raw').length} not compacted yet)`
        : ''),
  );
  lines.push(`  critical path  ${glyph.critical} marks the spans the request waited on; self time:`);
  for (const step of s.critical_path) {
    lines.push(`                 ${formatMs(step.self_ms).padStart(9)}  ${step.service} ${step.name}`);
  }
  for (const job of s.etl_jobs) {
    const cost =
      job.cost_usd === null ? 'cost not recorded yet' : `est. cost $${job.cost_usd.toPrecision(3)}`;
    const billed = job.billed_gb_seconds === null ? '' : ` (${job.billed_gb_seconds} GB-s billed)`;
    lines.push(
      `  ETL job        ${job.job_id ?? '?'} ${job.kind ?? ''} ${job.status ?? 'running'}: ${job.chunk_count} chunks, ` +
        `${job.invocations} invocations (${job.retried_chunks} chunks retried, ${job.failed_invocations} failed, ` +
        `${job.cold_starts} cold starts), ${cost}${billed}`,
    );
  }
  for (const note of s.notes) lines.push(`  note           ${note}`);
  return `${lines.join('\n')}\n`;
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
