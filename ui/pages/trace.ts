/**
 * /traces/<id>: one request's trace as a waterfall (services coloured, bars to scale, collapsible subtrees, the
 * critical path marked, ETL chunk attempts grouped), span details on click, and the request's logs and business
 * events under the spans that emitted them. It renders the `observatory trace --json` document: one model, two
 * renderers (the CLI's is cli/trace/render.ts). Two more views sit in tabs beside the waterfall, as in Jaeger UI: the
 * statistics per service and operation and a flame graph (trace-views.ts); the tab is in the URL's hash. A span's
 * details show its process's resource: the whole one from the lake (the second request, with the signals), where
 * Jaeger's copy lacks the repeated process attributes the Collector drops on its path.
 */
import { allSpans } from '../../trace/analysis.ts';
import type { EventEntry, LogEntry, ProcessEntry, SpanNode, TraceDocument } from '../../trace/types.ts';
import { ApiFailure, getJson } from '../lib/api.ts';
import { h, message, replace } from '../lib/dom.ts';
import { colorOf, formatMs, formatTime } from '../lib/format.ts';
import { flameView, statisticsView } from './trace-views.ts';

type LogOrEvent = { kind: 'log'; entry: LogEntry } | { kind: 'event'; entry: EventEntry };

export async function tracePage(root: HTMLElement, input: string): Promise<void> {
  root.append(h('p', { class: 'loading' }, `Loading trace ${input}…`));
  const path = `/api/traces/${encodeURIComponent(input)}`;
  // The spans first (Jaeger answers in milliseconds), then the same document with the logs and events, which are
  // read from the S3 store.
  let doc: TraceDocument;
  try {
    doc = await getJson<TraceDocument>(`${path}?signals=0`);
  } catch (error) {
    showFailure(root, error as ApiFailure);
    return;
  }
  document.title = `Trace ${doc.trace_id.slice(0, 8)} · Observatory`;
  render(
    root,
    doc,
    h('p', { class: 'loading', id: 'signals-loading' }, 'Reading its logs and events from the S3 store…'),
  );
  root.dataset.state = 'partial';
  try {
    doc = await getJson<TraceDocument>(path);
  } catch (error) {
    root
      .querySelector('#signals-loading')
      ?.replaceWith(message('error', `Logs and events: ${(error as ApiFailure).message}`));
    root.dataset.state = 'loaded';
    return;
  }
  const selected = root.querySelector<HTMLElement>('.row.span.selected')?.dataset.spanId;
  render(root, doc, null);
  if (selected) root.querySelector<HTMLElement>(`.row.span[data-span-id="${selected}"]`)?.click();
  root.dataset.state = 'loaded';
}

function showFailure(root: HTMLElement, failure: ApiFailure): void {
  root.dataset.state = failure.status === 404 ? 'not-found' : 'error';
  const title =
    failure.status === 404 ? 'Trace not found' : failure.status === 400 ? 'Not a trace ID' : 'Error';
  replace(
    root,
    h('h1', {}, title),
    message(failure.status === 404 ? 'empty' : 'error', failure.message),
    h('p', {}, 'Recent traces are on the ', h('a', { href: '/traces' }, 'traces page'), '.'),
  );
}

const VIEWS = [
  ['waterfall', 'Waterfall'],
  ['statistics', 'Statistics'],
  ['flamegraph', 'Flame graph'],
] as const;
type View = (typeof VIEWS)[number][0];

function render(root: HTMLElement, doc: TraceDocument, pending: HTMLElement | null): void {
  const signals = signalsBySpan(doc);
  const byId = new Map(allSpans(doc.spans).map((s) => [s.span_id, s]));
  const details = h(
    'aside',
    { class: 'span-details', id: 'span-details' },
    h('p', { class: 'hint' }, 'Click a span to see its attributes, events and status.'),
  );
  const open = (span: SpanNode) =>
    showDetails(
      details,
      span,
      signals.get(span.span_id) ?? [],
      doc.processes.filter((p) => p.service === span.service),
    );
  const build: Record<View, () => HTMLElement> = {
    waterfall: () => renderWaterfall(doc, signals, open),
    statistics: () => statisticsView(doc),
    flamegraph: () =>
      flameView(doc, (id) => {
        const span = byId.get(id);
        if (span) open(span);
      }),
  };
  const body = h('section', { class: 'trace-body' }, details);
  const built = new Map<View, HTMLElement>();
  const tabs = h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'trace views' });
  // Each view is drawn the first time its tab opens, then kept (with its scroll, zoom and selection).
  const show = (view: View) => {
    if (!built.has(view)) {
      const element = build[view]();
      built.set(view, element);
      body.insertBefore(element, details);
    }
    for (const [name, element] of built) element.hidden = name !== view;
    for (const tab of tabs.querySelectorAll<HTMLElement>('[role=tab]'))
      tab.setAttribute('aria-selected', String(tab.dataset.view === view));
    body.dataset.view = view;
  };
  for (const [view, label] of VIEWS) {
    const tab = h('button', { type: 'button', role: 'tab', 'data-view': view, id: `tab-${view}` }, label);
    tab.addEventListener('click', () => {
      history.replaceState(null, '', view === 'waterfall' ? location.pathname : `#${view}`);
      show(view);
    });
    tabs.append(tab);
  }
  const fromHash = location.hash.slice(1);
  show(VIEWS.some(([v]) => v === fromHash) ? (fromHash as View) : 'waterfall');
  replace(
    root,
    summary(doc),
    pending,
    tabs,
    body,
    pending ? null : unplaced(doc),
    pending ? null : allSignals(doc),
  );
}

function summary(doc: TraceDocument): HTMLElement {
  const s = doc.summary;
  return h(
    'section',
    { class: 'trace-summary' },
    h('h1', {}, h('span', { class: 'muted' }, 'Trace '), h('code', { id: 'trace-id' }, doc.trace_id)),
    h(
      'p',
      { class: 'facts' },
      h('span', {}, formatMs(s.duration_ms)),
      h('span', {}, `${s.span_count} spans`),
      h('span', { class: s.error_count > 0 ? 'bad' : null }, `${s.error_count} errors`),
      h('span', {}, `${s.log_count} logs`),
      h('span', {}, `${s.event_count} events`),
      h('span', {}, `started ${formatTime(s.start_time)} UTC`),
    ),
    h(
      'p',
      { class: 'services' },
      s.services.map((service) =>
        h(
          'a',
          {
            class: 'chip',
            href: `/traces?service=${encodeURIComponent(service)}`,
            style: `--c:${colorOf(service)}`,
          },
          service,
        ),
      ),
    ),
    criticalSummary(s.critical_path),
    s.etl_jobs.map((job) =>
      h(
        'p',
        { class: 'etl-summary' },
        `ETL job ${job.job_id ?? ''} (${job.kind ?? '?'}): ${job.status ?? '?'} — ${job.chunk_count} chunks, ` +
          `${job.invocations} invocations, ${job.retried_chunks} retried, ${job.failed_invocations} failed, ` +
          `${job.cold_starts} cold starts` +
          (job.cost_usd === null ? '' : `, $${job.cost_usd.toPrecision(3)}`),
      ),
    ),
    s.notes.length > 0
      ? h(
          'ul',
          { class: 'notes' },
          s.notes.map((n) => h('li', {}, n)),
        )
      : null,
  );
}

/** Steps shown before "… n more": an ETL job's path runs through hundreds of chunks. */
const CRITICAL_STEPS_SHOWN = 8;

function criticalSummary(path: TraceDocument['summary']['critical_path']): HTMLElement | null {
  if (path.length === 0) return null;
  const text = (steps: typeof path) =>
    steps.map((step) => `${step.service}: ${step.name} (${formatMs(step.self_ms)})`).join(' → ');
  const key = h('span', { class: 'critical-key' }, 'critical path');
  if (path.length <= CRITICAL_STEPS_SHOWN) return h('p', { class: 'critical-summary' }, key, ' ', text(path));
  return h(
    'details',
    { class: 'critical-summary' },
    h(
      'summary',
      {},
      key,
      ` ${text(path.slice(0, CRITICAL_STEPS_SHOWN))} → … `,
      h('span', { class: 'muted' }, `${path.length - CRITICAL_STEPS_SHOWN} more steps (click to show all)`),
    ),
    h('p', {}, text(path)),
  );
}

function signalsBySpan(doc: TraceDocument): Map<string, LogOrEvent[]> {
  const bySpan = new Map<string, LogOrEvent[]>();
  const add = (spanId: string, signal: LogOrEvent) => {
    if (!bySpan.has(spanId)) bySpan.set(spanId, []);
    bySpan.get(spanId)!.push(signal);
  };
  for (const entry of doc.logs) if (entry.placed && entry.span_id) add(entry.span_id, { kind: 'log', entry });
  for (const entry of doc.events)
    if (entry.placed && entry.span_id) add(entry.span_id, { kind: 'event', entry });
  for (const list of bySpan.values()) list.sort((a, b) => a.entry.time.localeCompare(b.entry.time));
  return bySpan;
}

function renderWaterfall(
  doc: TraceDocument,
  signals: Map<string, LogOrEvent[]>,
  select: (span: SpanNode) => void,
): HTMLElement {
  const total = Math.max(doc.summary.duration_ms, 0.001);
  const traceStart = Date.parse(doc.summary.start_time);
  const rows = h('div', { class: 'rows', role: 'tree' });
  const ticks = h(
    'div',
    { class: 'row ticks', 'aria-hidden': 'true' },
    h('div', { class: 'label' }, 'span'),
    h(
      'div',
      { class: 'bar-area' },
      [0, 0.25, 0.5, 0.75, 1].map((f) =>
        h('span', { class: 'tick', style: `left:${f * 100}%` }, formatMs(total * f)),
      ),
    ),
  );

  const renderSpan = (span: SpanNode, depth: number, attemptOf?: number | null): HTMLElement => {
    const color = colorOf(span.service);
    const left = (span.start_offset_ms / total) * 100;
    const width = Math.max((span.duration_ms / total) * 100, 0.3);
    const own = signals.get(span.span_id) ?? [];
    const hasChildren = span.children.length > 0 || own.length > 0;
    const toggle = h(
      'button',
      { class: 'toggle', 'aria-label': 'collapse', 'aria-expanded': 'true', type: 'button' },
      hasChildren ? '▾' : '',
    );
    if (!hasChildren) toggle.setAttribute('disabled', '');
    const attemptBadge =
      span.attempts && span.attempts.length > 0
        ? h(
            'span',
            {
              class: `attempts${span.attempts.length > 1 ? ' retried' : ''}`,
              title: 'invocations of this chunk, one per attempt',
            },
            span.attempts.length > 1 ? `${span.attempts.length} attempts` : '1 attempt',
            ' ',
            span.attempts.map((a) =>
              h('span', { class: `attempt ${a.status}` }, a.status === 'error' ? '✗' : '✓'),
            ),
          )
        : null;
    const keys = Object.entries(span.key_attributes)
      .map(([k, v]) => `${k.split('.').pop()}=${String(v)}`)
      .join(' ');
    const row = h(
      'div',
      {
        class: `row span${span.critical ? ' critical' : ''}${span.status === 'error' ? ' error' : ''}`,
        role: 'treeitem',
        tabindex: '0',
        'data-span-id': span.span_id,
        'data-span-name': span.name,
        'data-service': span.service,
        'data-critical': span.critical ? 'true' : 'false',
        'data-attempt': attemptOf ?? null,
        'data-attempts': span.attempts ? span.attempts.length : null,
        'data-chunk':
          span.key_attributes['etl.chunk.index'] === undefined
            ? null
            : String(span.key_attributes['etl.chunk.index']),
      },
      h(
        'div',
        { class: 'label', style: `padding-left:${depth * 14}px` },
        toggle,
        h('span', { class: 'dot', style: `background:${color}` }),
        h('span', { class: 'service' }, span.service),
        ' ',
        h('span', { class: 'name' }, span.name),
        attemptOf !== undefined
          ? h('span', { class: 'attempt-label' }, ` attempt ${attemptOf ?? '?'}`)
          : null,
        span.critical
          ? h(
              'span',
              { class: 'critical-mark', title: `critical path: ${formatMs(span.critical_ms)} of its own` },
              '◆',
            )
          : null,
        attemptBadge,
        keys ? h('span', { class: 'keys' }, keys) : null,
      ),
      h(
        'div',
        { class: 'bar-area' },
        h('span', { class: 'bar', style: `left:${left}%;width:${width}%;background:${color}` }),
        h(
          'span',
          {
            class: 'duration',
            // Right of the bar when there is room, else left of it, else inside its end. The label
            // never reaches past the room it has (a narrow window ellipsises it, nothing overflows).
            style:
              left + width <= 82
                ? `left:${left + width}%;max-width:calc(${100 - left - width}% - 4px)`
                : left >= 14
                  ? `right:${100 - left}%;margin-right:4px;max-width:calc(${left}% - 4px)`
                  : `right:${Math.max(100 - left - width, 0)}%;margin-right:4px;color:#fff;` +
                    `max-width:calc(${Math.min(left + width, 100)}% - 4px)`,
          },
          formatMs(span.duration_ms),
        ),
      ),
    );
    row.addEventListener('click', (event) => {
      if ((event.target as HTMLElement).closest('.toggle')) return;
      for (const other of rows.querySelectorAll('.row.selected')) other.classList.remove('selected');
      row.classList.add('selected');
      select(span);
    });
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') row.click();
    });
    const group = h('div', { class: 'group' }, row);
    const children = h('div', { class: 'children' });
    for (const signal of own)
      children.append(signalRow(signal, depth + 1, (Date.parse(signal.entry.time) - traceStart) / total));
    const attempts = new Map((span.attempts ?? []).map((a) => [a.span_id, a.attempt] as const));
    for (const child of span.children) {
      children.append(
        renderSpan(child, depth + 1, attempts.has(child.span_id) ? attempts.get(child.span_id) : undefined),
      );
    }
    group.append(children);
    toggle.addEventListener('click', () => {
      const collapsed = group.classList.toggle('collapsed');
      toggle.textContent = collapsed ? '▸' : '▾';
      toggle.setAttribute('aria-expanded', collapsed ? 'false' : 'true');
      toggle.setAttribute('aria-label', collapsed ? 'expand' : 'collapse');
    });
    return group;
  };
  for (const span of doc.spans) rows.append(renderSpan(span, 0));
  return h('section', { class: 'waterfall', id: 'waterfall' }, ticks, rows);
}

function signalRow(signal: LogOrEvent, depth: number, at: number): HTMLElement {
  const position = `left:${Math.min(Math.max(at * 100, 0), 99.5)}%`;
  if (signal.kind === 'log') {
    const log = signal.entry;
    return h(
      'div',
      { class: `row signal log sev-${log.severity.toLowerCase()}`, 'data-kind': 'log' },
      h(
        'div',
        { class: 'label', style: `padding-left:${depth * 14 + 18}px` },
        h('span', { class: 'tag' }, log.severity),
        ' ',
        h('span', { class: 'text' }, bodyText(log.body)),
      ),
      h('div', { class: 'bar-area' }, h('span', { class: 'tickmark', style: position })),
    );
  }
  const event = signal.entry;
  return h(
    'div',
    {
      class: `row signal event${event.rejected_reason ? ' rejected' : ''}`,
      'data-kind': 'event',
      'data-event-name': event.event_name,
    },
    h(
      'div',
      { class: 'label', style: `padding-left:${depth * 14 + 18}px` },
      h('span', { class: 'tag' }, 'event'),
      ' ',
      h('strong', {}, event.event_name),
      ' ',
      h('span', { class: 'text' }, compact(event.properties)),
      event.rejected_reason ? h('span', { class: 'bad' }, ` rejected: ${event.rejected_reason}`) : null,
    ),
    h('div', { class: 'bar-area' }, h('span', { class: 'tickmark event', style: position })),
  );
}

function attributeRows(attributes: Record<string, unknown>): HTMLElement[] {
  return Object.entries(attributes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, typeof v === 'string' ? v : JSON.stringify(v))));
}

/** The span's process resource(s): the lake's whole one, or Jaeger's copy until the trace is compacted. */
function resourceTables(processes: ProcessEntry[]): HTMLElement[] {
  return processes.map((p) =>
    h(
      'div',
      { class: 'resource', 'data-source': p.source },
      h('h3', {}, 'Resource'),
      h(
        'p',
        { class: 'muted' },
        p.source === 'lake'
          ? 'the whole resource, from the lake'
          : "Jaeger's copy, without the repeated process attributes (process.*, os.*, telemetry.sdk.*); the " +
              'whole resource shows once the trace is compacted into the lake',
      ),
      h('table', { class: 'attributes' }, h('tbody', {}, attributeRows(p.attributes))),
    ),
  );
}

function showDetails(panel: HTMLElement, span: SpanNode, own: LogOrEvent[], processes: ProcessEntry[]): void {
  const rows = attributeRows(span.attributes);
  replace(
    panel,
    h('h2', {}, span.name),
    h(
      'p',
      {},
      h('span', { class: 'chip', style: `--c:${colorOf(span.service)}` }, span.service),
      ` ${span.kind} · ${formatMs(span.duration_ms)} · starts at +${formatMs(span.start_offset_ms)}`,
    ),
    h(
      'p',
      { class: `status ${span.status}` },
      `status: ${span.status}`,
      span.status_message ? ` — ${span.status_message}` : '',
    ),
    span.critical
      ? h('p', { class: 'critical-key' }, `on the critical path: ${formatMs(span.critical_ms)} of its own`)
      : null,
    span.exceptions.map((e) =>
      h(
        'div',
        { class: 'exception' },
        h('strong', {}, e.type ?? 'exception'),
        e.message ? `: ${e.message}` : '',
        e.stacktrace ? h('pre', {}, e.stacktrace) : null,
      ),
    ),
    span.attempts
      ? h('p', {}, `attempts: ${span.attempts.map((a) => `#${a.attempt ?? '?'} ${a.status}`).join(', ')}`)
      : null,
    own.length > 0
      ? h(
          'div',
          {},
          h('h3', {}, 'Logs and events'),
          h(
            'ul',
            { class: 'signals' },
            own.map((s) =>
              h(
                'li',
                {},
                `${formatTime(s.entry.time)} `,
                s.kind === 'log'
                  ? `${s.entry.severity} ${bodyText(s.entry.body)}`
                  : `event ${s.entry.event_name} ${compact(s.entry.properties)}`,
              ),
            ),
          ),
        )
      : null,
    h('h3', {}, 'Attributes'),
    h('table', { class: 'attributes' }, h('tbody', {}, rows)),
    resourceTables(processes),
    h(
      'p',
      { class: 'muted' },
      `span ${span.span_id}${span.parent_span_id ? ` · parent ${span.parent_span_id}` : ''}`,
    ),
  );
  panel.classList.add('open');
}

function unplaced(doc: TraceDocument): HTMLElement | null {
  const logs = doc.logs.filter((l) => !l.placed);
  const events = doc.events.filter((e) => !e.placed);
  if (logs.length + events.length === 0) return null;
  return h(
    'section',
    { class: 'unplaced' },
    h('h2', {}, 'Not under a span of this trace'),
    h('ul', {}, [
      ...logs.map((l) =>
        h('li', {}, `${formatTime(l.time)} ${l.service ?? ''} ${l.severity} ${bodyText(l.body)}`),
      ),
      ...events.map((e) =>
        h(
          'li',
          {},
          `${formatTime(e.time)} ${e.service ?? ''} event ${e.event_name} ${compact(e.properties)}`,
        ),
      ),
    ]),
  );
}

function allSignals(doc: TraceDocument): HTMLElement {
  const items = [
    ...doc.logs.map((l) => ({
      time: l.time,
      service: l.service,
      what: `${l.severity} ${bodyText(l.body)}`,
      kind: 'log',
    })),
    ...doc.events.map((e) => ({
      time: e.time,
      service: e.service,
      what: `${e.event_name} ${compact(e.properties)}`,
      kind: 'event',
    })),
  ].sort((a, b) => a.time.localeCompare(b.time));
  return h(
    'section',
    { class: 'all-signals' },
    h('h2', {}, `Logs and events (${items.length})`),
    items.length === 0
      ? message(
          'empty',
          'No logs or events found for this trace yet: logs reach the S3 store a few seconds after spans.',
        )
      : h(
          'table',
          { class: 'list' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'time (UTC)'),
              h('th', {}, 'service'),
              h('th', {}, 'kind'),
              h('th', {}, 'what'),
            ),
          ),
          h(
            'tbody',
            {},
            items.map((i) =>
              h(
                'tr',
                { class: i.kind },
                h('td', {}, formatTime(i.time)),
                h('td', {}, i.service ?? ''),
                h('td', {}, i.kind),
                h('td', {}, i.what),
              ),
            ),
          ),
        ),
  );
}

function bodyText(body: unknown): string {
  return typeof body === 'string' ? body : compact(body);
}

function compact(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}
