/**
 * /traces: recent traces, newest first, with filters (service, operation, errors only, minimum duration, attribute
 * key=value, time range) kept in the URL, refreshing every few seconds while traffic flows. The CLI's text
 * equivalent is `observatory trace --last`.
 */
import type { TraceListing } from '../../trace/types.ts';
import { ApiFailure, getJson } from '../lib/api.ts';
import { h, message, replace } from '../lib/dom.ts';
import { colorOf, formatMs, formatTime } from '../lib/format.ts';

const REFRESH_MS = 5000;
const LOOKBACKS = ['5m', '15m', '1h', '3h', '12h', '1d'];

export async function tracesPage(root: HTMLElement): Promise<void> {
  const params = new URLSearchParams(location.search);
  const field = (name: string) => params.get(name) ?? '';
  const service = h(
    'select',
    { name: 'service', 'aria-label': 'service' },
    h('option', { value: '' }, 'every service'),
  );
  const operation = h(
    'select',
    { name: 'operation', 'aria-label': 'operation' },
    h('option', { value: '' }, 'every operation'),
  );
  const errors = h('input', { type: 'checkbox', name: 'errors', checked: field('errors') === '1' });
  const minDuration = h('input', {
    name: 'minDuration',
    placeholder: 'e.g. 100ms',
    value: field('minDuration'),
    size: 8,
  });
  const tag = h('input', { name: 'tag', placeholder: 'key=value', value: field('tag'), size: 16 });
  const lookback = h(
    'select',
    { name: 'lookback', 'aria-label': 'time range' },
    LOOKBACKS.map((l) => h('option', { value: l, selected: (field('lookback') || '1h') === l }, `last ${l}`)),
  );
  const limit = h('input', {
    name: 'limit',
    type: 'number',
    min: 1,
    max: 500,
    value: field('limit') || '20',
    size: 4,
  });
  const live = h('input', { type: 'checkbox', name: 'live', checked: params.get('live') !== '0' });
  const form = h(
    'form',
    { class: 'filters' },
    h('label', {}, 'Service ', service),
    h('label', {}, 'Operation ', operation),
    h('label', {}, 'Min duration ', minDuration),
    h('label', {}, 'Attribute ', tag),
    h('label', {}, 'Range ', lookback),
    h('label', {}, 'Limit ', limit),
    h('label', { class: 'check' }, errors, ' errors only'),
    h('label', { class: 'check' }, live, ' refresh'),
    h('button', { type: 'submit' }, 'Search'),
  );
  const status = h('p', { class: 'muted', id: 'traces-status' });
  const results = h('div', { id: 'traces-results' });
  // The ticks survive the refresh that redraws the table; the two newest ticks are compared.
  const ticked: string[] = [];
  const compare = h('button', { type: 'button', id: 'compare', disabled: true }, 'Compare');
  const compareHint = h('span', { class: 'muted' }, 'tick two traces to compare them');
  const onTick = (traceId: string, on: boolean) => {
    const at = ticked.indexOf(traceId);
    if (at >= 0) ticked.splice(at, 1);
    if (on) ticked.push(traceId);
    while (ticked.length > 2) {
      const dropped = ticked.shift()!;
      const box = results.querySelector<HTMLInputElement>(`input[data-trace-id="${dropped}"]`);
      if (box) box.checked = false;
    }
    compare.toggleAttribute('disabled', ticked.length !== 2);
    compareHint.textContent =
      ticked.length === 2
        ? `${ticked[0]!.slice(0, 8)} ↔ ${ticked[1]!.slice(0, 8)}`
        : 'tick two traces to compare them';
  };
  compare.addEventListener('click', () => {
    if (ticked.length === 2) location.assign(`/compare/${ticked[0]}/${ticked[1]}`);
  });
  replace(
    root,
    h('h1', {}, 'Recent traces'),
    form,
    h('p', { class: 'compare-bar' }, compare, ' ', compareHint),
    status,
    results,
  );

  const query = () => {
    const q = new URLSearchParams();
    if (service.value) q.set('service', service.value);
    if (service.value && operation.value) q.set('operation', operation.value);
    if (errors.checked) q.set('errors', '1');
    if (minDuration.value.trim()) q.set('minDuration', minDuration.value.trim());
    if (tag.value.trim()) q.set('tag', tag.value.trim());
    q.set('lookback', lookback.value);
    q.set('limit', limit.value || '20');
    return q;
  };

  const loadOperations = async (selected: string) => {
    replace(operation, h('option', { value: '' }, 'every operation'));
    if (!service.value) return;
    const { operations } = await getJson<{ operations: string[] }>(
      `/api/services?service=${encodeURIComponent(service.value)}`,
    );
    for (const op of operations) operation.append(h('option', { value: op, selected: op === selected }, op));
  };

  let timer: number | undefined;
  const refresh = async () => {
    window.clearTimeout(timer);
    const q = query();
    try {
      const traces = await getJson<TraceListing[]>(`/api/traces?${q}`);
      replace(results, table(traces, ticked, onTick));
      root.dataset.state = traces.length > 0 ? 'loaded' : 'empty';
      status.textContent = `${traces.length} traces · updated ${new Date().toLocaleTimeString()}${live.checked ? ` · refreshing every ${REFRESH_MS / 1000} s` : ''}`;
    } catch (error) {
      replace(results, message('error', (error as ApiFailure).message));
      root.dataset.state = 'error';
    }
    if (live.checked) timer = window.setTimeout(() => void refresh(), REFRESH_MS);
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = query();
    if (!live.checked) q.set('live', '0');
    history.replaceState(null, '', `/traces?${q}`);
    void refresh();
  });
  service.addEventListener('change', () => void loadOperations(''));
  live.addEventListener('change', () => void refresh());

  try {
    const { services } = await getJson<{ services: string[] }>('/api/services');
    for (const name of services)
      service.append(h('option', { value: name, selected: name === field('service') }, name));
    await loadOperations(field('operation'));
  } catch (error) {
    replace(results, message('error', (error as ApiFailure).message));
    root.dataset.state = 'error';
    return;
  }
  await refresh();
}

function table(
  traces: TraceListing[],
  ticked: string[],
  onTick: (traceId: string, on: boolean) => void,
): HTMLElement {
  if (traces.length === 0)
    return message('empty', 'No traces match. Run `npm run demo` for traffic, or widen the range.');
  const longest = Math.max(...traces.map((t) => t.duration_ms), 0.001);
  return h(
    'table',
    { class: 'list traces' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, h('span', { class: 'visually-hidden' }, 'compare')),
        ['started (UTC)', 'root', 'duration', 'spans', 'errors', 'trace'].map((c) => h('th', {}, c)),
      ),
    ),
    h(
      'tbody',
      {},
      traces.map((t) =>
        h(
          'tr',
          { class: t.error ? 'error' : null, 'data-trace-id': t.trace_id, 'data-duration-ms': t.duration_ms },
          h(
            'td',
            {},
            h('input', {
              type: 'checkbox',
              class: 'tick',
              'data-trace-id': t.trace_id,
              'aria-label': `compare trace ${t.trace_id}`,
              checked: ticked.includes(t.trace_id),
              onchange: (event: Event) => onTick(t.trace_id, (event.target as HTMLInputElement).checked),
            }),
          ),
          h('td', { class: 'nowrap' }, formatTime(t.start_time)),
          h(
            'td',
            {},
            h('span', { class: 'dot', style: `background:${colorOf(t.root_service)}` }),
            ` ${t.root_service} `,
            h('a', { href: `/traces/${t.trace_id}` }, t.root_operation),
          ),
          h(
            'td',
            { class: 'duration-cell' },
            h('span', { class: 'mini-bar', style: `width:${(t.duration_ms / longest) * 100}%` }),
            formatMs(t.duration_ms),
          ),
          h('td', { class: 'num' }, t.span_count),
          h('td', {}, t.error ? h('span', { class: 'bad' }, 'error') : ''),
          h('td', {}, h('a', { href: `/traces/${t.trace_id}`, class: 'mono' }, t.trace_id)),
        ),
      ),
    ),
  );
}
