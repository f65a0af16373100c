/**
 * /services: the service map from span data (services as nodes, calls as edges), each with request rate, error
 * rate and p95 from span metrics; every node links to its traces. A table below says the same in text (and is
 * what a narrow window reads first).
 */
import type { ServiceEdge, ServiceMap, ServiceNode, ServiceStats } from '../../console/types.ts';
import { ApiFailure, getJson } from '../lib/api.ts';
import { h, message, replace, svg } from '../lib/dom.ts';
import { colorOf, formatMs, formatUnit } from '../lib/format.ts';

const NODE_W = 220;
const NODE_H = 64;
const COL_GAP = 250;
const ROW_GAP = 28;

export async function servicesPage(root: HTMLElement): Promise<void> {
  replace(root, h('h1', {}, 'Service map'), h('p', { class: 'loading' }, 'Reading span data…'));
  let map: ServiceMap;
  try {
    map = await getJson<ServiceMap>('/api/service-map');
  } catch (error) {
    replace(root, h('h1', {}, 'Service map'), message('error', (error as ApiFailure).message));
    root.dataset.state = 'error';
    return;
  }
  replace(
    root,
    h('h1', {}, 'Service map'),
    h(
      'p',
      { class: 'muted' },
      `Calls from ${map.source === 'jaeger-dependencies' ? "Jaeger's dependency links and each service's recent traces" : "recent traces' parent/child spans"} (last hour); ` +
        `rates, errors and p95 from span metrics over ${map.window} (server spans of the callee).`,
    ),
    map.notes.length > 0
      ? h(
          'ul',
          { class: 'notes' },
          map.notes.map((n) => h('li', {}, n)),
        )
      : null,
    map.nodes.length === 0
      ? message('empty', 'No services yet: run `npm run demo` for traffic.')
      : drawing(map),
    tables(map),
  );
  root.dataset.state = map.edges.length > 0 ? 'loaded' : 'empty';
}

const stats = (s: ServiceStats) =>
  `${formatUnit(s.request_rate, 'reqps')} · ${formatUnit(s.error_rate, 'percentunit')} err · p95 ${s.p95_ms === null ? '–' : formatMs(s.p95_ms)}`;

/** Columns by call depth (callers left of callees), rows in name order. */
function layout(map: ServiceMap): Map<string, { x: number; y: number }> {
  const depth = new Map<string, number>(map.nodes.map((n) => [n.service, 0]));
  for (let pass = 0; pass < map.nodes.length; pass++) {
    for (const edge of map.edges) {
      const next = (depth.get(edge.from) ?? 0) + 1;
      if (next > (depth.get(edge.to) ?? 0) && next < map.nodes.length) depth.set(edge.to, next);
    }
  }
  const columns = new Map<number, string[]>();
  for (const node of map.nodes) {
    const d = depth.get(node.service)!;
    if (!columns.has(d)) columns.set(d, []);
    columns.get(d)!.push(node.service);
  }
  const tallest = Math.max(...[...columns.values()].map((c) => c.length));
  const positions = new Map<string, { x: number; y: number }>();
  for (const [d, names] of columns) {
    const offset = ((tallest - names.length) * (NODE_H + ROW_GAP)) / 2;
    names.forEach((name, i) =>
      positions.set(name, { x: 20 + d * (NODE_W + COL_GAP), y: 20 + offset + i * (NODE_H + ROW_GAP) }),
    );
  }
  return positions;
}

function drawing(map: ServiceMap): HTMLElement {
  const positions = layout(map);
  const width = Math.max(...[...positions.values()].map((p) => p.x)) + NODE_W + 20;
  const height = Math.max(...[...positions.values()].map((p) => p.y)) + NODE_H + 20;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    class: 'service-map',
    role: 'img',
    'aria-label': 'service map',
  });
  const defs = svg(
    'defs',
    {},
    svg(
      'marker',
      {
        id: 'arrow',
        viewBox: '0 0 10 10',
        refX: 10,
        refY: 5,
        markerWidth: 8,
        markerHeight: 8,
        orient: 'auto-start-reverse',
      },
      svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#888' }),
    ),
  );
  root.append(defs);
  for (const edge of map.edges) root.append(edgeShape(edge, positions));
  for (const node of map.nodes) root.append(nodeShape(node, positions.get(node.service)!));
  return h('div', { class: 'map-box' }, root);
}

function edgeShape(edge: ServiceEdge, positions: Map<string, { x: number; y: number }>): SVGElement {
  const a = positions.get(edge.from)!;
  const b = positions.get(edge.to)!;
  const forward = b.x > a.x;
  const x1 = forward ? a.x + NODE_W : a.x + NODE_W / 2;
  const y1 = forward ? a.y + NODE_H / 2 : a.y + NODE_H;
  const x2 = forward ? b.x : b.x + NODE_W / 2;
  const y2 = forward ? b.y + NODE_H / 2 : b.y;
  const mx = (x1 + x2) / 2;
  const d = forward ? `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}` : `M ${x1} ${y1} L ${x2} ${y2}`;
  const bad = (edge.callee.error_rate ?? 0) > 0.05;
  // Two short lines at the middle of the curve: the calls seen, then the callee's numbers.
  const label = svg('text', { x: mx, y: (y1 + y2) / 2 - 10, 'text-anchor': 'middle', class: 'edge-label' });
  const calls = svg('tspan', { x: mx, dy: 0 });
  calls.textContent = `${edge.calls} calls`;
  const numbers = svg('tspan', { x: mx, dy: 12 });
  numbers.textContent = stats(edge.callee);
  label.append(calls, numbers);
  const group = svg(
    'g',
    { class: `edge${bad ? ' bad' : ''}`, 'data-from': edge.from, 'data-to': edge.to },
    svg('path', { d, 'marker-end': 'url(#arrow)' }),
    label,
  );
  const title = svg('title');
  title.textContent = `${edge.from} → ${edge.to}: ${edge.calls} calls seen in traces; ${stats(edge.callee)}`;
  group.append(title);
  return group;
}

function nodeShape(node: ServiceNode, at: { x: number; y: number }): SVGElement {
  const link = svg('a', {
    href: `/traces?service=${encodeURIComponent(node.service)}`,
    class: 'node',
    'data-service': node.service,
  });
  const name = svg('text', { x: at.x + 12, y: at.y + 24, class: 'node-name' });
  name.textContent = node.service;
  const line = svg('text', { x: at.x + 12, y: at.y + 46, class: 'node-stats' });
  line.textContent = stats(node);
  const title = svg('title');
  title.textContent = `${node.service}: ${stats(node)} — click for its traces`;
  link.append(
    svg('rect', {
      x: at.x,
      y: at.y,
      width: NODE_W,
      height: NODE_H,
      rx: 8,
      class: (node.error_rate ?? 0) > 0.05 ? 'bad' : '',
    }),
    svg('rect', { x: at.x, y: at.y, width: 6, height: NODE_H, rx: 3, fill: colorOf(node.service) }),
    name,
    line,
    title,
  );
  return link;
}

function tables(map: ServiceMap): HTMLElement {
  return h(
    'div',
    { class: 'map-tables' },
    h(
      'table',
      { class: 'list', id: 'service-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['service', 'requests/s', 'errors', 'p95', ''].map((c) => h('th', {}, c)),
        ),
      ),
      h(
        'tbody',
        {},
        map.nodes.map((n) =>
          h(
            'tr',
            {},
            h(
              'td',
              {},
              h('span', { class: 'dot', style: `background:${colorOf(n.service)}` }),
              ` ${n.service}`,
            ),
            h('td', { class: 'num' }, formatUnit(n.request_rate, 'reqps')),
            h('td', { class: 'num' }, formatUnit(n.error_rate, 'percentunit')),
            h('td', { class: 'num' }, n.p95_ms === null ? '–' : formatMs(n.p95_ms)),
            h('td', {}, h('a', { href: `/traces?service=${encodeURIComponent(n.service)}` }, 'traces')),
          ),
        ),
      ),
    ),
    h(
      'table',
      { class: 'list', id: 'edge-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['call', 'calls seen', 'callee requests/s', 'callee errors', 'callee p95'].map((c) =>
            h('th', {}, c),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        map.edges.map((e) =>
          h(
            'tr',
            { 'data-edge': `${e.from}->${e.to}` },
            h('td', {}, `${e.from} → ${e.to}`),
            h('td', { class: 'num' }, e.calls),
            h('td', { class: 'num' }, formatUnit(e.callee.request_rate, 'reqps')),
            h('td', { class: 'num' }, formatUnit(e.callee.error_rate, 'percentunit')),
            h('td', { class: 'num' }, e.callee.p95_ms === null ? '–' : formatMs(e.callee.p95_ms)),
          ),
        ),
      ),
    ),
  );
}
