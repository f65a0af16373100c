/**
 * The console's entry: the header (pages, trace search) and the page for the current path. Each page is one
 * module under pages/; navigation is ordinary links, so every view has a URL to share.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { h } from './lib/dom.ts';
import { comparePage } from './pages/compare.ts';
import { dashboardPage, dashboardsPage } from './pages/dashboards.ts';
import { lakePage } from './pages/lake.ts';
import { servicesPage } from './pages/services.ts';
import { tracePage } from './pages/trace.ts';
import { tracesPage } from './pages/traces.ts';

const NAV: [string, string][] = [
  ['/traces', 'Traces'],
  ['/services', 'Service map'],
  ['/dashboards', 'Dashboards'],
  ['/lake', 'Lake'],
];

function header(path: string): HTMLElement {
  const input = h('input', {
    name: 'trace',
    type: 'search',
    placeholder: 'trace ID, traceparent or traceresponse',
    'aria-label': 'Open a trace by ID, traceparent or traceresponse',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const form = h('form', { class: 'search', role: 'search' }, input, h('button', { type: 'submit' }, 'Open'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (value !== '') location.assign(`/traces/${encodeURIComponent(value)}`);
  });
  return h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: '/traces' }, 'Observatory'),
    h(
      'nav',
      {},
      NAV.map(([href, label]) =>
        h(
          'a',
          {
            href,
            class:
              path === href ||
              path.startsWith(`${href}/`) ||
              (href === '/traces' && path.startsWith('/compare/'))
                ? 'active'
                : null,
          },
          label,
        ),
      ),
    ),
    form,
  );
}

async function main(): Promise<void> {
  const path = location.pathname.replace(/\/+$/, '') || '/traces';
  const app = document.getElementById('app')!;
  const content = h('main', { id: 'content' });
  app.replaceChildren(header(path), content);
  const [, first, rest] = /^\/([^/]+)(?:\/(.+))?$/.exec(path) ?? [];
  const param = rest === undefined ? undefined : decodeURIComponent(rest);
  const pair = rest?.split('/').map(decodeURIComponent);
  if (first === 'compare' && pair?.length === 2) await comparePage(content, pair[0]!, pair[1]!);
  else if (first === 'traces' && param !== undefined) await tracePage(content, param);
  else if (first === 'traces') await tracesPage(content);
  else if (first === 'services') await servicesPage(content);
  else if (first === 'dashboards' && param !== undefined) await dashboardPage(content, param);
  else if (first === 'dashboards') await dashboardsPage(content);
  else if (first === 'lake') await lakePage(content);
  document.body.dataset.ready = 'true';
}

void main();
