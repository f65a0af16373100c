/**
 * The trace page's other two views, after Jaeger UI's: the statistics per service and operation (count, errors,
 * total, self time, min/avg/max; sortable by any column) and the flame graph (boxes as wide as the self time under
 * them, merged by path of service:operation; a click zooms on a box and opens its longest span's details). The
 * numbers come from trace/analysis.ts, which the unit tests check.
 */
import {
  flameGraph,
  traceStatistics,
  zoomFlame,
  type FlameFrame,
  type OperationStats,
} from '../../trace/analysis.ts';
import type { TraceDocument } from '../../trace/types.ts';
import { h, replace } from '../lib/dom.ts';
import { colorOf, formatMs } from '../lib/format.ts';

type Column = keyof OperationStats;

const COLUMNS: [Column, string][] = [
  ['service', 'service'],
  ['name', 'operation'],
  ['count', 'count'],
  ['errors', 'errors'],
  ['total_ms', 'total'],
  ['self_ms', 'self time'],
  ['min_ms', 'min'],
  ['avg_ms', 'avg'],
  ['max_ms', 'max'],
];

const ROW_PX = 22;

export function statisticsView(doc: TraceDocument): HTMLElement {
  const stats = traceStatistics(doc);
  const totalSelf = Math.max(
    stats.reduce((n, s) => n + s.self_ms, 0),
    0.001,
  );
  let sortBy: Column = 'total_ms';
  let descending = true;
  const body = h('tbody');
  const head = h('tr');
  const draw = () => {
    const sorted = [...stats].sort((p, q) => {
      const a = p[sortBy];
      const b = q[sortBy];
      const order = typeof a === 'number' ? a - (b as number) : String(a).localeCompare(String(b));
      return descending ? -order : order;
    });
    replace(
      body,
      sorted.map((s) =>
        h(
          'tr',
          { 'data-service': s.service, 'data-operation': s.name, class: s.errors > 0 ? 'error' : null },
          h(
            'td',
            {},
            h('span', { class: 'dot', style: `background:${colorOf(s.service)}` }),
            ` ${s.service}`,
          ),
          h('td', {}, s.name),
          h('td', { class: 'num', 'data-value': s.count }, s.count),
          h('td', { class: `num${s.errors > 0 ? ' bad' : ''}`, 'data-value': s.errors }, s.errors),
          ...(['total_ms', 'self_ms', 'min_ms', 'avg_ms', 'max_ms'] as const).map((c) =>
            h(
              'td',
              { class: 'num', 'data-value': s[c] },
              c === 'self_ms'
                ? h('span', { class: 'share', style: `width:${(s.self_ms / totalSelf) * 100}%` })
                : null,
              formatMs(s[c]),
            ),
          ),
        ),
      ),
    );
    for (const th of head.querySelectorAll<HTMLElement>('th')) {
      const mine = th.dataset.column === sortBy;
      th.setAttribute('aria-sort', mine ? (descending ? 'descending' : 'ascending') : 'none');
    }
  };
  for (const [column, label] of COLUMNS) {
    const button = h('button', { type: 'button', class: 'sort' }, label);
    button.addEventListener('click', () => {
      descending = sortBy === column ? !descending : typeof stats[0]?.[column] === 'number';
      sortBy = column;
      draw();
    });
    head.append(h('th', { 'data-column': column, scope: 'col' }, button));
  }
  draw();
  return h(
    'section',
    { class: 'statistics', id: 'statistics' },
    h(
      'p',
      { class: 'muted' },
      `${stats.length} operations in ${doc.summary.services.length} services. Self time: the time no child of the ` +
        'span covered. Click a heading to sort.',
    ),
    h('div', { class: 'scroll' }, h('table', { class: 'list stats' }, h('thead', {}, head), body)),
  );
}

/** `open`: shows a span's details (the page's side panel). */
export function flameView(doc: TraceDocument, open: (spanId: string) => void): HTMLElement {
  const frames = flameGraph(doc);
  const depth = frames.reduce((n, f) => Math.max(n, f.depth + 1), 0);
  const graph = h('div', { class: 'flame', role: 'group', style: `height:${depth * ROW_PX}px` });
  const crumb = h('span', { class: 'muted', id: 'flame-focus' });
  const reset = h('button', { type: 'button', class: 'reset', disabled: true }, 'Whole trace');
  const draw = (focusId: string | null) => {
    const shown = focusId === null ? frames : zoomFlame(frames, focusId);
    replace(
      graph,
      shown.filter((f) => f.width > 0).map((f) => frameBox(f, f.id === focusId)),
    );
    graph.dataset.focus = focusId ?? '';
    const focus = frames.find((f) => f.id === focusId);
    crumb.textContent = focus ? `zoomed on ${focus.service}: ${focus.name}` : 'showing the whole trace';
    if (focusId === null) reset.setAttribute('disabled', '');
    else reset.removeAttribute('disabled');
  };
  graph.addEventListener('click', (event) => {
    const box = (event.target as HTMLElement).closest<HTMLElement>('.frame');
    if (!box) return;
    draw(box.dataset.frameId!);
    const first = box.dataset.spans?.split(',')[0];
    if (first) open(first);
  });
  graph.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') (event.target as HTMLElement).closest<HTMLElement>('.frame')?.click();
  });
  reset.addEventListener('click', () => draw(null));
  draw(null);
  return h(
    'section',
    { class: 'flamegraph', id: 'flamegraph' },
    h(
      'p',
      { class: 'muted' },
      'A box is as wide as the self time of its spans and of everything under them; the spans of one service and ' +
        'operation under the same path are one box (×N). Click a box to zoom on it and see its longest span.',
    ),
    h('p', { class: 'toolbar' }, reset, ' ', crumb),
    graph,
  );
}

function frameBox(frame: FlameFrame, focused: boolean): HTMLElement {
  const label = `${frame.service}: ${frame.name}${frame.count > 1 ? ` ×${frame.count}` : ''}`;
  return h(
    'div',
    {
      class: `frame${focused ? ' focused' : ''}`,
      tabindex: '0',
      role: 'button',
      'data-frame-id': frame.id,
      'data-service': frame.service,
      'data-operation': frame.name,
      'data-depth': frame.depth,
      'data-count': frame.count,
      'data-spans': frame.span_ids.slice(0, 1).join(','),
      title: `${label}\nself ${formatMs(frame.self_ms)}, with everything under it ${formatMs(frame.value_ms)}`,
      style:
        `left:${frame.x * 100}%;width:${frame.width * 100}%;top:${frame.depth * ROW_PX}px;` +
        `background:${colorOf(frame.service)}`,
    },
    h('span', {}, label),
  );
}
