/**
 * /dashboards and /dashboards/<uid>: our Grafana dashboards, rendered from the committed JSON that Grafana
 * provisions (rows, panels, variables, time range), against the local Prometheus through the console's read-only
 * proxy. Time series are drawn with uPlot (Grafana's own time-series renderer); stat panels show the last value;
 * latency panels whose targets ask for exemplars show them as points that open their trace. A panel type not
 * rendered here says so in place.
 */
import uPlot from 'uplot';
import { ApiFailure, getJson, prometheus } from '../lib/api.ts';
import { h, message, replace } from '../lib/dom.ts';
import { formatUnit, seriesColor } from '../lib/format.ts';

interface Target {
  expr?: string;
  refId?: string;
  legendFormat?: string;
  exemplar?: boolean;
  hide?: boolean;
}
interface Panel {
  type: string;
  title?: string;
  description?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  fieldConfig?: { defaults?: { unit?: string; min?: number } };
  panels?: Panel[];
  collapsed?: boolean;
}
interface Variable {
  name: string;
  label?: string;
  type: string;
  query?: string | { query?: string };
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  description?: string;
  time?: { from: string; to: string };
  refresh?: string;
  panels?: Panel[];
  templating?: { list?: Variable[] };
}
interface DashboardSummary {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  panel_count: number;
}
interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}
interface ExemplarSet {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

const RANGES = ['5m', '15m', '30m', '1h', '3h', '6h', '12h', '24h'];
const ALL = '$__all';
/** Scrape interval of the local Prometheus (deploy/local/prometheus.yml); rate windows cover at least 4 scrapes. */
const SCRAPE_SECONDS = 5;

export async function dashboardsPage(root: HTMLElement): Promise<void> {
  replace(root, h('h1', {}, 'Dashboards'));
  try {
    const list = await getJson<DashboardSummary[]>('/api/dashboards');
    root.append(
      h(
        'p',
        { class: 'muted' },
        'The dashboards Grafana provisions (deploy/grafana/dashboards/json), drawn here against the local Prometheus.',
      ),
      h(
        'ul',
        { class: 'cards' },
        list.map((d) =>
          h(
            'li',
            { class: 'card', 'data-uid': d.uid },
            h('a', { href: `/dashboards/${encodeURIComponent(d.uid)}` }, h('h2', {}, d.title)),
            h('p', {}, d.description || ''),
            h('p', { class: 'muted' }, `${d.panel_count} panels`),
          ),
        ),
      ),
    );
    root.dataset.state = 'loaded';
  } catch (error) {
    root.append(message('error', (error as ApiFailure).message));
    root.dataset.state = 'error';
  }
}

export async function dashboardPage(root: HTMLElement, uid: string): Promise<void> {
  let dashboard: Dashboard;
  try {
    dashboard = await getJson<Dashboard>(`/api/dashboards/${encodeURIComponent(uid)}`);
  } catch (error) {
    replace(root, h('h1', {}, 'Dashboard'), message('error', (error as ApiFailure).message));
    root.dataset.state = 'error';
    return;
  }
  document.title = `${dashboard.title} · Observatory`;
  const params = new URLSearchParams(location.search);
  const range = h(
    'select',
    { name: 'range', 'aria-label': 'time range' },
    RANGES.map((r) =>
      h('option', { value: r, selected: r === (params.get('from') ?? rangeOf(dashboard)) }, `last ${r}`),
    ),
  );
  const refreshButton = h('button', { type: 'button' }, 'Refresh');
  const variables = h('div', { class: 'variables' });
  const grid = h('div', { class: 'grid' });
  replace(
    root,
    h(
      'h1',
      {},
      h('a', { href: '/dashboards', class: 'muted' }, 'Dashboards / '),
      dashboard.title.replace(/^Observatory \/ /, ''),
    ),
    dashboard.description ? h('p', { class: 'muted' }, dashboard.description) : null,
    h('div', { class: 'toolbar' }, variables, h('label', {}, 'Range ', range), refreshButton),
    grid,
  );

  const values = new Map<string, string[]>();
  const varList = (dashboard.templating?.list ?? []).filter((v) => v.type === 'query' || v.type === 'custom');
  let timer: number | undefined;
  const draw = async () => {
    window.clearTimeout(timer);
    const seconds = durationSeconds(range.value);
    await renderPanels(grid, dashboard, values, seconds);
    const refreshEvery = durationSeconds(dashboard.refresh ?? '30s');
    timer = window.setTimeout(() => void draw(), refreshEvery * 1000);
    root.dataset.state = 'loaded';
  };
  const syncUrl = () => {
    const q = new URLSearchParams({ from: range.value });
    for (const [name, selected] of values) for (const v of selected) q.append(`var-${name}`, v);
    history.replaceState(null, '', `${location.pathname}?${q}`);
  };

  for (const variable of varList) {
    const chosen = params.getAll(`var-${variable.name}`);
    values.set(variable.name, chosen.length > 0 ? chosen : [ALL]);
    // One value or All (the URL may still carry several, as Grafana's multi-value variables do).
    const select = h('select', { name: `var-${variable.name}`, 'aria-label': variable.name });
    variables.append(h('label', { class: 'variable' }, `${variable.label ?? variable.name} `, select));
    const options = await variableOptions(variable, values, durationSeconds(range.value)).catch(
      () => [] as string[],
    );
    const current = values.get(variable.name)!;
    if (variable.includeAll)
      select.append(h('option', { value: ALL, selected: current.includes(ALL) }, 'All'));
    for (const option of options)
      select.append(h('option', { value: option, selected: current.includes(option) }, option));
    select.addEventListener('change', () => {
      const picked = [...select.selectedOptions].map((o) => o.value);
      values.set(variable.name, picked.length > 0 ? picked : [ALL]);
      syncUrl();
      void draw();
    });
  }
  range.addEventListener('change', () => {
    syncUrl();
    void draw();
  });
  refreshButton.addEventListener('click', () => void draw());
  await draw();
}

function rangeOf(dashboard: Dashboard): string {
  const from = /^now-(\d+[mhd])$/.exec(dashboard.time?.from ?? '')?.[1] ?? '1h';
  return RANGES.includes(from) ? from : '1h';
}

function durationSeconds(text: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!match) return 3600;
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

/** `label_values(selector, label)` or `label_values(label)`, read through the series API. */
async function variableOptions(
  variable: Variable,
  values: Map<string, string[]>,
  seconds: number,
): Promise<string[]> {
  const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
  const match = /^label_values\((?:(.+),\s*)?(\w+)\)$/.exec(query.trim());
  if (!match) return [];
  const [, selector, label] = match;
  const end = Math.floor(Date.now() / 1000);
  if (!selector)
    return prometheus<string[]>(`label/${label}/values`, { start: String(end - seconds), end: String(end) });
  const series = await prometheus<Record<string, string>[]>('series', {
    'match[]': interpolate(selector, values, new Map(), { step: 15, range: seconds }),
    start: String(end - seconds),
    end: String(end),
  });
  return [...new Set(series.map((s) => s[label!]).filter((v): v is string => v !== undefined))].sort();
}

const escapeRegex = (value: string) => value.replace(/[\\^$.*+?()[\]{}|]/g, '\\\\$&');

/** Grafana's substitution for the Prometheus datasource: variables (regex-escaped; All = allValue or .*) and macros. */
function interpolate(
  expr: string,
  values: Map<string, string[]>,
  allValues: Map<string, string>,
  timing: { step: number; range: number },
): string {
  const rateInterval = Math.max(timing.step + SCRAPE_SECONDS, 4 * SCRAPE_SECONDS, 60);
  const macros: Record<string, string> = {
    __rate_interval: `${rateInterval}s`,
    __interval: `${timing.step}s`,
    __interval_ms: String(timing.step * 1000),
    __range: `${timing.range}s`,
    __range_s: String(timing.range),
    __range_ms: String(timing.range * 1000),
  };
  return expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g,
    (whole, a?: string, b?: string, c?: string) => {
      const name = (a ?? b ?? c)!;
      if (name in macros) return macros[name]!;
      const value = values.get(name);
      if (value === undefined) return whole;
      if (value.includes(ALL)) return allValues.get(name) ?? '.*';
      return value.length === 1 ? escapeRegex(value[0]!) : `(${value.map(escapeRegex).join('|')})`;
    },
  );
}

/** Panels in Grafana's order (by row, then column), rows' nested panels after their row. */
function flatten(panels: Panel[]): Panel[] {
  const byPosition = (a: Panel, b: Panel) =>
    (a.gridPos?.y ?? 0) - (b.gridPos?.y ?? 0) || (a.gridPos?.x ?? 0) - (b.gridPos?.x ?? 0);
  return [...panels]
    .sort(byPosition)
    .flatMap((p) => (p.type === 'row' ? [p, ...[...(p.panels ?? [])].sort(byPosition)] : [p]));
}

const charts: uPlot[] = [];

async function renderPanels(
  grid: HTMLElement,
  dashboard: Dashboard,
  values: Map<string, string[]>,
  seconds: number,
): Promise<void> {
  for (const chart of charts.splice(0)) chart.destroy();
  const end = Math.floor(Date.now() / 1000);
  const start = end - seconds;
  const step = Math.max(SCRAPE_SECONDS, Math.ceil(seconds / 240));
  const allValues = new Map((dashboard.templating?.list ?? []).map((v) => [v.name, v.allValue ?? '.*']));
  const cells: HTMLElement[] = [];
  const work: Promise<void>[] = [];
  for (const panel of flatten(dashboard.panels ?? [])) {
    if (panel.type === 'row') {
      cells.push(h('h2', { class: 'row-title' }, panel.title ?? ''));
      continue;
    }
    const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'loading…'));
    const cell = h(
      'section',
      {
        class: `panel panel-${panel.type}`,
        style: `--w:${panel.gridPos?.w ?? 12};--h:${panel.gridPos?.h ?? 8}`,
        'data-panel-type': panel.type,
        'data-title': panel.title ?? '',
        'data-state': 'loading',
      },
      h('h3', { title: panel.description ?? '' }, panel.title ?? ''),
      body,
    );
    cells.push(cell);
    const timing = { step, range: seconds };
    const targets = (panel.targets ?? []).filter((t) => t.expr && !t.hide);
    const exprs = targets.map((t) => interpolate(t.expr!, values, allValues, timing));
    if (panel.type === 'timeseries' || panel.type === 'graph') {
      work.push(timeseriesPanel(cell, body, panel, targets, exprs, { start, end, step }));
    } else if (panel.type === 'stat' || panel.type === 'gauge' || panel.type === 'singlestat') {
      work.push(statPanel(cell, body, panel, targets, exprs, { start, end, step }));
    } else {
      replace(
        body,
        message(
          'info',
          `Panel type "${panel.type}" is not rendered in this console; open it in Grafana (deploy/grafana).`,
        ),
      );
      cell.dataset.state = 'unsupported';
    }
  }
  replace(grid, ...cells);
  await Promise.all(work);
}

interface Range {
  start: number;
  end: number;
  step: number;
}

async function queryAll(targets: Target[], exprs: string[], range: Range) {
  return Promise.all(
    exprs.map(async (expr, i) => {
      const data = await prometheus<{ result: RangeSeries[] }>('query_range', {
        query: expr,
        start: String(range.start),
        end: String(range.end),
        step: String(range.step),
      });
      return data.result.map((series) => ({
        name: legend(targets[i]!.legendFormat, series.metric, expr),
        series,
      }));
    }),
  );
}

function legend(format: string | undefined, metric: Record<string, string>, expr: string): string {
  if (format && format !== '__auto')
    return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, label: string) => metric[label] ?? '');
  const labels = Object.entries(metric).filter(([k]) => k !== '__name__');
  return labels.length > 0 ? `{${labels.map(([k, v]) => `${k}="${v}"`).join(', ')}}` : expr.slice(0, 60);
}

async function statPanel(
  cell: HTMLElement,
  body: HTMLElement,
  panel: Panel,
  targets: Target[],
  exprs: string[],
  range: Range,
) {
  try {
    const results = (await queryAll(targets, exprs, range)).flat();
    const unit = panel.fieldConfig?.defaults?.unit;
    const shown = results
      .map((r) => {
        const last = [...r.series.values].reverse().find(([, v]) => Number.isFinite(Number(v)));
        return last ? { name: r.name, value: Number(last[1]) } : undefined;
      })
      .filter((v): v is { name: string; value: number } => v !== undefined);
    if (shown.length === 0) {
      replace(body, message('empty', 'No data in this range.'));
      cell.dataset.state = 'empty';
      return;
    }
    replace(
      body,
      ...shown.map((s) =>
        h(
          'div',
          { class: 'stat' },
          h('span', { class: 'stat-value', 'data-value': s.value }, formatUnit(s.value, unit)),
          shown.length > 1 ? h('span', { class: 'muted' }, ` ${s.name}`) : null,
        ),
      ),
    );
    cell.dataset.state = 'data';
    cell.dataset.values = String(shown.length);
  } catch (error) {
    replace(body, message('error', (error as ApiFailure).message));
    cell.dataset.state = 'error';
  }
}

async function timeseriesPanel(
  cell: HTMLElement,
  body: HTMLElement,
  panel: Panel,
  targets: Target[],
  exprs: string[],
  range: Range,
) {
  try {
    const results = (await queryAll(targets, exprs, range)).flat();
    const withPoints = results.filter((r) => r.series.values.length > 0);
    if (withPoints.length === 0) {
      replace(body, message('empty', 'No data in this range.'));
      cell.dataset.state = 'empty';
      return;
    }
    const xs: number[] = [];
    for (let t = range.start; t <= range.end; t += range.step) xs.push(t);
    const index = new Map(xs.map((t, i) => [t, i]));
    const columns = withPoints.map((r) => {
      const column: (number | null)[] = xs.map(() => null);
      for (const [t, v] of r.series.values) {
        const i = index.get(Math.round(t));
        const n = Number(v);
        if (i !== undefined && Number.isFinite(n)) column[i] = n;
      }
      return column;
    });
    const unit = panel.fieldConfig?.defaults?.unit;
    const exemplars = await loadExemplars(targets, exprs, range);
    const chartBox = h('div', { class: 'chart' });
    replace(body, chartBox);
    const width = Math.max(chartBox.clientWidth, 260);
    const chart = new uPlot(
      {
        width,
        height: 200,
        series: [
          {},
          ...withPoints.map((r, i) => ({
            label: r.name,
            stroke: seriesColor(i),
            fill: `${seriesColor(i)}1a`,
            width: 1.5,
            spanGaps: false,
            value: (_u: uPlot, v: number | null) => formatUnit(v, unit),
          })),
        ],
        axes: [
          {},
          { values: (_u: uPlot, ticks: number[]) => ticks.map((v) => formatUnit(v, unit)), size: axisSize },
        ],
        scales: { y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
        legend: { show: true },
        hooks: { draw: [(u) => placeExemplars(u, exemplars), recordAxis] },
      },
      [xs, ...columns] as uPlot.AlignedData,
      chartBox,
    );
    charts.push(chart);
    const points = columns.reduce((n, c) => n + c.filter((v) => v !== null).length, 0);
    cell.dataset.state = points > 0 ? 'data' : 'empty';
    cell.dataset.series = String(withPoints.length);
    cell.dataset.points = String(points);
    cell.dataset.exemplars = String(exemplars.length);
    new ResizeObserver(() => {
      if (chartBox.clientWidth > 0 && Math.abs(chartBox.clientWidth - chart.width) > 4)
        chart.setSize({ width: chartBox.clientWidth, height: 200 });
    }).observe(chartBox);
  } catch (error) {
    replace(body, message('error', (error as ApiFailure).message));
    cell.dataset.state = 'error';
  }
}

/**
 * The y axis as wide as its longest label (uPlot's own example, axis-autosize): a fixed width clips "100 k req/s" to
 * "00 k req/s". uPlot calls it again while the size converges; after the second pass the size is kept.
 */
function axisSize(u: uPlot, values: string[] | undefined, axisIdx: number, cycleNum: number): number {
  const axis = u.axes[axisIdx]! as uPlot.Axis & { _size?: number; font?: [string, number] };
  if (cycleNum > 1 && axis._size !== undefined) return axis._size;
  let size = (axis.ticks?.size ?? 10) + (axis.gap ?? 5) + 4;
  const longest = (values ?? []).reduce((a, v) => (v.length > a.length ? v : a), '');
  if (longest !== '') {
    u.ctx.font = axis.font![0];
    size += u.ctx.measureText(longest).width / devicePixelRatio;
  }
  return Math.ceil(size);
}

/** The y axis' labels, font and width on the chart's element, so that a test can check that every label fits. */
function recordAxis(u: uPlot): void {
  const axis = u.axes[1]! as uPlot.Axis & { _size?: number; _values?: string[]; font?: [string, number] };
  const root = u.root;
  root.dataset.yAxisPx = String(axis._size ?? '');
  root.dataset.yLabels = JSON.stringify(axis._values ?? []);
  root.dataset.yFont = axis.font?.[0] ?? '';
  root.dataset.yTickPx = String((axis.ticks?.size ?? 10) + (axis.gap ?? 5));
}

interface Exemplar {
  time: number;
  value: number;
  traceId: string;
}

async function loadExemplars(targets: Target[], exprs: string[], range: Range): Promise<Exemplar[]> {
  const found: Exemplar[] = [];
  for (const [i, target] of targets.entries()) {
    if (!target.exemplar) continue;
    const sets = await prometheus<ExemplarSet[] | null>('query_exemplars', {
      query: exprs[i]!,
      start: String(range.start),
      end: String(range.end),
    }).catch(() => null);
    for (const set of sets ?? []) {
      for (const e of set.exemplars) {
        const traceId = e.labels.trace_id ?? e.labels.traceID ?? e.labels.TraceID;
        if (traceId) found.push({ time: e.timestamp, value: Number(e.value), traceId });
      }
    }
  }
  // One marker per trace, newest kept; at most 200 so a busy hour stays readable.
  const byTrace = new Map(found.map((e) => [e.traceId, e]));
  return [...byTrace.values()].sort((a, b) => b.time - a.time).slice(0, 200);
}

/** Exemplars as links over the plot, each opening its trace; made once per chart, moved on each redraw. */
function placeExemplars(u: uPlot, exemplars: Exemplar[]): void {
  let layer = u.over.querySelector<HTMLElement>('.exemplars');
  if (!layer) {
    layer = h('div', { class: 'exemplars' });
    for (const e of exemplars) {
      const link = h('a', {
        class: 'exemplar',
        href: `/traces/${e.traceId}`,
        title: `exemplar: ${formatUnit(e.value, 'ms')} at ${new Date(e.time * 1000).toISOString()} — trace ${e.traceId}`,
        'data-trace-id': e.traceId,
      });
      // The plot's own handlers (cursor, drag to zoom) must not swallow the click.
      link.addEventListener('mousedown', (event) => event.stopPropagation());
      layer.append(link);
    }
    u.over.append(layer);
  }
  const [min, max] = [u.scales.x!.min!, u.scales.x!.max!];
  const links = layer.querySelectorAll<HTMLElement>('a.exemplar');
  exemplars.forEach((e, i) => {
    const link = links[i]!;
    const visible = e.time >= min && e.time <= max && Number.isFinite(e.value);
    link.hidden = !visible;
    if (!visible) return;
    link.style.left = `${u.valToPos(e.time, 'x')}px`;
    link.style.top = `${u.valToPos(Math.min(e.value, u.scales.y!.max ?? e.value), 'y')}px`;
  });
}
