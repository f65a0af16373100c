/**
 * /compare/<a>/<b>: two traces aligned by service and operation, as Jaeger UI's trace compare: each path of
 * service:operation with its span count, total and self time in each trace and the difference (b − a), the paths
 * only one trace has marked, the self time per service (where the time went) and each trace's critical path. The
 * alignment is trace/analysis.ts's compareTraces, computed by the console's API.
 */
import type { TraceBrief, TraceComparison } from '../../trace/analysis.ts';
import type { CriticalStep } from '../../trace/types.ts';
import { ApiFailure, getJson } from '../lib/api.ts';
import { h, message, replace } from '../lib/dom.ts';
import { colorOf, formatMs } from '../lib/format.ts';

export async function comparePage(root: HTMLElement, a: string, b: string): Promise<void> {
  root.append(h('p', { class: 'loading' }, `Comparing ${a} with ${b}…`));
  let comparison: TraceComparison;
  try {
    comparison = await getJson<TraceComparison>(
      `/api/compare/${encodeURIComponent(a)}/${encodeURIComponent(b)}`,
    );
  } catch (error) {
    const failure = error as ApiFailure;
    replace(
      root,
      h('h1', {}, 'Compare two traces'),
      message(failure.status === 404 ? 'empty' : 'error', failure.message),
      h('p', {}, 'Tick two traces on the ', h('a', { href: '/traces' }, 'traces page'), ' to compare them.'),
    );
    root.dataset.state = failure.status === 404 ? 'not-found' : 'error';
    return;
  }
  document.title = `Compare ${comparison.a.trace_id.slice(0, 8)} ↔ ${comparison.b.trace_id.slice(0, 8)} · Observatory`;
  replace(
    root,
    h('h1', {}, 'Compare two traces'),
    briefs(comparison),
    h(
      'p',
      { class: 'facts presence-facts', id: 'compare-presence' },
      h('span', { class: 'only-a-key' }, `${comparison.only_a} only in A`),
      h('span', { class: 'only-b-key' }, `${comparison.only_b} only in B`),
      h('span', {}, `${comparison.rows.length - comparison.only_a - comparison.only_b} in both`),
    ),
    h('h2', {}, 'Spans by service and operation'),
    alignedTable(comparison),
    h('h2', {}, 'Where the time went: self time per service'),
    servicesTable(comparison),
    h('h2', {}, 'Critical paths'),
    h(
      'div',
      { class: 'critical-paths' },
      criticalPath('A', comparison.a.critical_path),
      criticalPath('B', comparison.b.critical_path),
    ),
  );
  root.dataset.state = 'loaded';
}

function briefs(c: TraceComparison): HTMLElement {
  const line = (label: string, t: TraceBrief) =>
    h(
      'p',
      { class: 'brief', 'data-side': label },
      h('strong', {}, `${label} `),
      h('a', { href: `/traces/${t.trace_id}`, class: 'mono' }, t.trace_id),
      h(
        'span',
        { class: 'facts' },
        h('span', {}, t.root),
        h('span', {}, formatMs(t.duration_ms)),
        h('span', {}, `${t.span_count} spans`),
        h('span', { class: t.error_count > 0 ? 'bad' : null }, `${t.error_count} errors`),
      ),
    );
  return h(
    'section',
    { class: 'briefs' },
    line('A', c.a),
    line('B', c.b),
    h(
      'p',
      { class: 'brief diff-row' },
      h('strong', {}, 'B − A '),
      h(
        'span',
        { class: 'facts' },
        h('span', {}, signed(c.b.duration_ms - c.a.duration_ms, formatMs)),
        h('span', {}, `${signed(c.b.span_count - c.a.span_count, String)} spans`),
        h('span', {}, `${signed(c.b.error_count - c.a.error_count, String)} errors`),
      ),
    ),
  );
}

function alignedTable(c: TraceComparison): HTMLElement {
  const head = h(
    'thead',
    {},
    h(
      'tr',
      {},
      h('th', { rowspan: 2 }, 'service: operation'),
      h('th', { colspan: 3 }, 'spans'),
      h('th', { colspan: 3 }, 'total'),
      h('th', { colspan: 3 }, 'self time'),
    ),
    h(
      'tr',
      {},
      ['A', 'B', 'Δ', 'A', 'B', 'Δ', 'A', 'B', 'Δ'].map((l) => h('th', { class: 'num' }, l)),
    ),
  );
  const rows = c.rows.map((r) =>
    h(
      'tr',
      {
        class: `aligned ${r.presence}`,
        'data-presence': r.presence,
        'data-service': r.service,
        'data-operation': r.name,
        'data-count-a': r.a.count,
        'data-count-b': r.b.count,
      },
      h(
        'td',
        { style: `padding-left:${6 + r.depth * 14}px` },
        h('span', { class: 'dot', style: `background:${colorOf(r.service)}` }),
        ` ${r.service}: ${r.name}`,
        r.presence === 'both'
          ? null
          : h('span', { class: 'presence' }, r.presence === 'only-a' ? 'only in A' : 'only in B'),
      ),
      h('td', { class: 'num' }, r.a.count || '–'),
      h('td', { class: 'num' }, r.b.count || '–'),
      h('td', { class: 'num diff' }, signed(r.diff_count, String)),
      h('td', { class: 'num' }, r.a.count ? formatMs(r.a.total_ms) : '–'),
      h('td', { class: 'num' }, r.b.count ? formatMs(r.b.total_ms) : '–'),
      h('td', { class: `num diff ${tone(r.diff_total_ms)}` }, signed(r.diff_total_ms, formatMs)),
      h('td', { class: 'num' }, r.a.count ? formatMs(r.a.self_ms) : '–'),
      h('td', { class: 'num' }, r.b.count ? formatMs(r.b.self_ms) : '–'),
      h('td', { class: `num diff ${tone(r.diff_self_ms)}` }, signed(r.diff_self_ms, formatMs)),
    ),
  );
  return h(
    'div',
    { class: 'scroll' },
    h('table', { class: 'list compare', id: 'compare-rows' }, head, h('tbody', {}, rows)),
  );
}

function servicesTable(c: TraceComparison): HTMLElement {
  const most = Math.max(...c.services.flatMap((s) => [s.a_self_ms, s.b_self_ms]), 0.001);
  const bar = (ms: number, side: string) =>
    h('span', { class: `share ${side}`, style: `width:${(ms / most) * 100}%` });
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'list compare-services', id: 'compare-services' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['service', 'A', 'B', 'B − A'].map((l) => h('th', {}, l)),
        ),
      ),
      h(
        'tbody',
        {},
        c.services.map((s) =>
          h(
            'tr',
            { 'data-service': s.service },
            h(
              'td',
              {},
              h('span', { class: 'dot', style: `background:${colorOf(s.service)}` }),
              ` ${s.service}`,
            ),
            h('td', { class: 'num bar-cell' }, bar(s.a_self_ms, 'a'), formatMs(s.a_self_ms)),
            h('td', { class: 'num bar-cell' }, bar(s.b_self_ms, 'b'), formatMs(s.b_self_ms)),
            h('td', { class: `num diff ${tone(s.diff_self_ms)}` }, signed(s.diff_self_ms, formatMs)),
          ),
        ),
      ),
    ),
  );
}

function criticalPath(label: string, steps: CriticalStep[]): HTMLElement {
  return h(
    'div',
    { class: 'critical-path', 'data-side': label },
    h('h3', {}, `Trace ${label}`),
    steps.length === 0
      ? message('empty', 'No critical path: the trace has no root span.')
      : h(
          'ol',
          {},
          steps.map((s) =>
            h(
              'li',
              {},
              h('span', { class: 'dot', style: `background:${colorOf(s.service)}` }),
              ` ${s.service}: ${s.name} `,
              h('span', { class: 'muted' }, formatMs(s.self_ms)),
            ),
          ),
        ),
  );
}

function signed(value: number, format: (v: number) => string): string {
  if (value === 0) return '0';
  return value > 0 ? `+${format(value)}` : `−${format(-value)}`;
}

/** Slower (more time) reads as worse, faster as better: the compare page is mostly asked "why was B slower". */
const tone = (diff: number): string => (diff > 0 ? 'slower' : diff < 0 ? 'faster' : '');
