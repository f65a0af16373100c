/**
 * `observatory ui` in a real browser (Debian's Chromium, headless) against the real stack and demo traffic: the
 * trace page of a search and of an ETL job, the traces list, every panel of every dashboard with data and an
 * exemplar that opens its trace, the service map's edges, the lake page's read-only SQL and its row cap, the error
 * pages; what a Jaeger UI user reaches for next (a trace's statistics and flame graph, two traces compared), service
 * colours that never read as an error, axis labels that fit, the lake's tables and columns; and no page throwing in
 * the console. A page on another origin is in cross-origin.test.ts. Screenshots of each page land in .observatory/screenshots/.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../common/s3-store.ts';
import { runLoad } from '../../demo/load-generator.ts';
import { compactAll, lakeConfig } from '../../lake/index.ts';
import { parseTraceId, type TraceDocument } from '../../trace/index.ts';
import { startUi, uiConfig, type UiServer } from '../../console/index.ts';
import type { JobView } from '../../etl/listener/jobs.ts';
import { startPlatform, type Platform } from '../../demo/platform.ts';
import { fetchTrace, type JaegerTrace } from '../support/backends.ts';
import {
  launchBrowser,
  screenshot,
  settled,
  watchedPage,
  type WatchedPage,
} from '../../bench/lib/browser.ts';
import { isAlarming } from '../support/colour.ts';
import { pollUntil } from '../support/poll.ts';
import { settledSignals } from '../support/trace-signals.ts';

let platform: Platform;
let ui: UiServer;
let browser: Browser;
const opened: WatchedPage[] = [];

beforeAll(async () => {
  platform = await startPlatform({
    freePorts: true,
    env: {
      OTEL_BSP_SCHEDULE_DELAY: '500',
      OTEL_BLRP_SCHEDULE_DELAY: '500',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OBSERVATORY_ETL_ALLOW_FAULTS: 'true',
      OBSERVATORY_ETL_RETRY_BASE_MS: '50',
    },
  });
  ui = await startUi({ ...uiConfig(), port: 0 });
  browser = await launchBrowser();
  // Demo traffic, jobs included, so that every dashboard and the service map have something to show.
  await runLoad({
    url: platform.urls.gateway,
    rate: 10,
    durationSeconds: 6,
    mix: { search: 50, download: 20, signup: 10, job: 20 },
    faultRate: 0.05,
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  await platform?.stop();
});

/** Opens a console path in a new watched page and waits until the page says it has finished. */
async function open(path: string, options: Parameters<typeof watchedPage>[1] = {}) {
  const watched = await watchedPage(browser, options);
  opened.push(watched);
  await watched.page.goto(`${ui.url}${path}`, { waitUntil: 'load' });
  const state = await settled(watched.page);
  return { ...watched, state };
}

async function submitJob(fault?: { chunks: number[]; kind: string; attempts: number }): Promise<JobView> {
  const submitted = await fetch(`${platform.urls.etl}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ bbox: [0, 40, 5, 45], from: '2026-06-11', to: '2026-06-12', fault }),
  });
  expect(submitted.status, await submitted.clone().text()).toBe(202);
  const { id } = (await submitted.json()) as JobView;
  return pollUntil(
    `job ${id} to finish`,
    async () => {
      const view = (await (await fetch(`${platform.urls.etl}/jobs/${id}`)).json()) as JobView;
      return view.status === 'queued' || view.status === 'running' ? undefined : view;
    },
    { timeoutMs: 60_000 },
  );
}

/** Runs the compaction job (raw events → curated Parquet) on the fleet and waits for it. */
async function compaction(): Promise<JobView> {
  const submitted = await fetch(`${platform.urls.etl}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'compaction' }),
  });
  const { id } = (await submitted.json()) as JobView;
  return pollUntil(
    `compaction job ${id} to finish`,
    async () => {
      const view = (await (await fetch(`${platform.urls.etl}/jobs/${id}`)).json()) as JobView;
      return view.status === 'queued' || view.status === 'running' ? undefined : view;
    },
    { timeoutMs: 60_000 },
  );
}

describe('the trace page', () => {
  it('shows, for a demo search, every span name Jaeger has, its log lines, its search_made event and the critical path', async () => {
    const user = `ui-${randomBytes(4).toString('hex')}`;
    const response = await fetch(
      `${platform.urls.gateway}/api/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-02&limit=2`,
      { headers: { 'x-user-id': user } },
    );
    expect(response.status).toBe(200);
    const { scenes } = (await response.json()) as { scenes: unknown[] };
    const traceresponse = response.headers.get('traceresponse')!;
    const traceId = parseTraceId(traceresponse);
    const trace = await fetchTrace(traceId, 4 + 3 * scenes.length + 2);
    await settledSignals(
      traceId,
      ({ logs, events }) =>
        logs.some((l) => l.body === 'scene search') && events.some((e) => e.eventName === 'search_made'),
    );

    // Opened by its traceresponse value, as a user pastes it.
    const { page, state, problems } = await open(`/traces/${encodeURIComponent(traceresponse)}`);
    expect(state).toBe('loaded');
    expect(await page.$eval('#trace-id', (el) => el.textContent)).toBe(traceId);
    const shown = await page.$$eval('.row.span', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset.spanName!),
    );
    expect(shown.sort()).toEqual(trace.spans.map((s) => s.operationName).sort());
    const logs = await page.$$eval('.row.signal.log', (rows) => rows.map((r) => r.textContent ?? ''));
    expect(logs.some((text) => text.includes('scene search'))).toBe(true);
    const events = await page.$$eval('.row.signal.event', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset.eventName),
    );
    expect(events).toContain('search_made');
    // The event sits under a catalog span: inside that span's group, after its row.
    const underCatalog = await page.$$eval('.group', (groups) =>
      groups.some(
        (g) =>
          g.querySelector(':scope > .row.span')?.getAttribute('data-service') === 'catalog' &&
          g.querySelector(':scope > .children > .row.signal.event[data-event-name="search_made"]') !== null,
      ),
    );
    expect(underCatalog).toBe(true);
    expect(
      await page.$$eval('.row.span[data-critical="true"]', (rows) => rows.length),
    ).toBeGreaterThanOrEqual(1);

    await page.click('.row.span[data-service="catalog"]');
    await page.waitForSelector('#span-details table.attributes');
    expect(await page.$eval('#span-details', (el) => el.textContent)).toContain('http.response.status_code');
    await screenshot(page, 'trace-search', true);

    // A subtree collapses and opens again.
    const toggle = (await page.$('.group > .row.span .toggle:not([disabled])'))!;
    await toggle.click();
    expect(await page.$$eval('.group.collapsed', (g) => g.length)).toBe(1);
    await toggle.click();
    expect(await page.$$eval('.group.collapsed', (g) => g.length)).toBe(0);

    // On a narrow window the page still fits: nothing scrolls sideways.
    await page.setViewport({ width: 400, height: 800 });
    const tooWide = await page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter(
          (el) =>
            el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.scroll, .map-box'),
        )
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}`)
        .slice(0, 5),
    );
    expect(tooWide).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(
      true,
    );
    await screenshot(page, 'trace-search-narrow');
    expect(problems).toEqual([]);
  });

  it("shows a span's process resource, whole from the lake once the trace is compacted", async () => {
    const response = await fetch(
      `${platform.urls.gateway}/api/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-02&limit=1`,
    );
    expect(response.status).toBe(200);
    const traceId = parseTraceId(response.headers.get('traceresponse')!);
    await fetchTrace(traceId, 2);
    // Jaeger's copy lacks the repeated process attributes; the lake's has them once its spans are compacted.
    const fromJaeger = (await (
      await fetch(`${ui.url}/api/traces/${traceId}?signals=0`)
    ).json()) as TraceDocument;
    expect(fromJaeger.processes.find((p) => p.service === 'catalog')).toEqual(
      expect.objectContaining({ source: 'jaeger' }),
    );
    expect(fromJaeger.processes.flatMap((p) => Object.keys(p.attributes))).not.toContain('process.pid');
    await pollUntil(
      `trace ${traceId}'s resources in the lake`,
      async () => {
        // Compacted here rather than by the fleet's job: the same compaction, without a sandbox's start-up.
        await compactAll({ config: lakeConfig(), store: S3Store.fromSettings(lakeConfig().s3) });
        const doc = (await (await fetch(`${ui.url}/api/traces/${traceId}`)).json()) as TraceDocument;
        return doc.processes.some((p) => p.service === 'catalog' && p.source === 'lake') ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );

    const { page, state, problems } = await open(`/traces/${traceId}`);
    expect(state).toBe('loaded');
    await page.click('.row.span[data-service="catalog"]');
    await page.waitForSelector('#span-details .resource');
    const resource = await page.$eval('#span-details .resource', (el) => ({
      source: (el as HTMLElement).dataset.source,
      text: el.textContent ?? '',
    }));
    expect(resource.source).toBe('lake');
    for (const key of ['service.name', 'process.pid', 'process.runtime.version', 'host.name'])
      expect(resource.text).toContain(key);
    expect(problems).toEqual([]);
  }, 180_000);

  it('shows every chunk of an ETL job, a retried chunk as its attempts', async () => {
    const job = await submitJob({ chunks: [0], kind: 'throw', attempts: 1 });
    expect(job.status).toBe('done');
    const trace = await fetchTrace(job.trace_id, (t) =>
      t.spans.some((s) => s.operationName === 'etl.job crop_stats'),
    );
    const invokes = trace.spans.filter((s) => s.operationName === 'crop_stats invoke');
    const { page, state, problems } = await open(`/traces/${job.trace_id}`);
    expect(state).toBe('loaded');
    const chunks = await page.$$eval('.row.span[data-span-name="etl.chunk crop_stats"]', (rows) =>
      rows.map((r) => ({
        chunk: (r as HTMLElement).dataset.chunk,
        attempts: (r as HTMLElement).dataset.attempts,
        text: r.textContent ?? '',
      })),
    );
    expect(chunks).toHaveLength(job.chunks.total);
    expect(new Set(chunks.map((c) => c.chunk)).size).toBe(job.chunks.total);
    const retried = chunks.find((c) => c.chunk === '0')!;
    expect(retried.attempts).toBe('2');
    expect(retried.text).toContain('2 attempts');
    for (const other of chunks.filter((c) => c.chunk !== '0')) expect(other.attempts).toBe('1');
    // The invocations are shown as attempts under their chunk: 1 and 2 for the retried one.
    const attempts = await page.$$eval('.row.span[data-span-name="crop_stats invoke"]', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset.attempt),
    );
    expect(attempts).toHaveLength(invokes.length);
    expect(attempts.filter((a) => a === '2')).toHaveLength(1);
    expect(await page.$eval('.trace-summary', (el) => el.textContent)).toContain('1 retried');
    await screenshot(page, 'trace-etl-job', true);
    expect(problems).toEqual([]);
  });

  it('says a malformed trace ID is not a trace ID, and an unknown one is not found', async () => {
    const malformed = await open('/traces/not-a-trace-id', { allowedStatuses: [400] });
    expect(malformed.state).toBe('error');
    expect(await malformed.page.$eval('.message.error', (el) => el.textContent)).toMatch(/is not a trace ID/);
    await screenshot(malformed.page, 'trace-malformed');
    expect(malformed.problems).toEqual([]);

    const unknown = await open(`/traces/${randomBytes(16).toString('hex')}`, { allowedStatuses: [404] });
    expect(unknown.state).toBe('not-found');
    expect(await unknown.page.$eval('#content', (el) => el.textContent)).toMatch(/not found/);
    expect(unknown.problems).toEqual([]);
  });

  it('opens a trace from the search box', async () => {
    const { page, problems } = await open('/traces');
    const [listed] = await page.$$eval('tr[data-trace-id]', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset.traceId!),
    );
    expect(listed).toMatch(/^[0-9a-f]{32}$/);
    await page.type('form.search input', `00-${listed}-00f067aa0ba902b7-01`);
    await Promise.all([page.waitForNavigation(), page.click('form.search button')]);
    expect(await settled(page)).toBe('loaded');
    expect(await page.$eval('#trace-id', (el) => el.textContent)).toBe(listed);
    expect(problems).toEqual([]);
  });
});

describe('the traces page', () => {
  it('lists recent traces newest first, filtered by service, errors and minimum duration', async () => {
    const { page, state, problems } = await open('/traces?service=gateway&lookback=15m&limit=30');
    expect(state).toBe('loaded');
    // The first cell is the tick that picks a trace to compare; the start time follows.
    const rows = await page.$$eval('tr[data-trace-id]', (trs) =>
      trs.map((r) => r.querySelector('td:nth-child(2)')!.textContent!),
    );
    expect(rows.every((r) => /^\d{4}-\d\d-\d\d /.test(r))).toBe(true);
    expect(rows.length).toBeGreaterThan(0);
    expect([...rows].sort().reverse()).toEqual(rows);
    expect(
      await page.$$eval('tr[data-trace-id] td:nth-child(3)', (tds) =>
        tds.every((td) => td.textContent!.includes('gateway')),
      ),
    ).toBe(true);
    await screenshot(page, 'traces');

    const errors = await open('/traces?errors=1&lookback=15m');
    expect(errors.state).toBe('loaded');
    const errorRows = await errors.page.$$eval('tr[data-trace-id]', (trs) =>
      trs.map((r) => r.classList.contains('error')),
    );
    expect(errorRows.length).toBeGreaterThan(0);
    expect(errorRows.every(Boolean)).toBe(true);

    const durations = await page.$$eval('tr[data-trace-id]', (trs) =>
      trs.map((r) => Number((r as HTMLElement).dataset.durationMs)),
    );
    const median = [...durations].sort((a, b) => a - b)[Math.floor(durations.length / 2)]!;
    const threshold = Math.max(1, Math.floor(median));
    const slow = await open(`/traces?service=gateway&minDuration=${threshold}ms&lookback=15m&limit=30`);
    expect(slow.state).toBe('loaded');
    const slowDurations = await slow.page.$$eval('tr[data-trace-id]', (trs) =>
      trs.map((r) => Number((r as HTMLElement).dataset.durationMs)),
    );
    expect(slowDurations.length).toBeGreaterThan(0);
    expect(slowDurations.every((d) => d >= threshold)).toBe(true);
    expect([...problems, ...errors.problems, ...slow.problems]).toEqual([]);
  });
});

describe('the dashboards', () => {
  it('renders every panel of every dashboard with a non-empty series or value', async () => {
    const list = await open('/dashboards');
    const uids = await list.page.$$eval('li.card', (cards) =>
      cards.map((c) => (c as HTMLElement).dataset.uid!),
    );
    expect(uids.sort()).toEqual([
      'observatory-business-events',
      'observatory-collector',
      'observatory-etl-fleet',
      'observatory-services',
    ]);
    await screenshot(list.page, 'dashboards');
    const job = await submitJob({ chunks: [0, 1], kind: 'throw', attempts: 3 });
    expect(job.status).not.toBe('running');
    for (const uid of uids) {
      const watched = await watchedPage(browser);
      opened.push(watched);
      let panels: { title: string; type: string; state: string; detail: string }[] = [];
      // Polled: rates need two scrapes of the new series inside their window.
      await pollUntil(
        `every panel of ${uid} to show data`,
        async () => {
          await watched.page.goto(`${ui.url}/dashboards/${uid}`, { waitUntil: 'load' });
          await settled(watched.page);
          await watched.page.waitForFunction(
            () => document.querySelectorAll('.panel[data-state="loading"]').length === 0,
            { timeout: 30_000 },
          );
          panels = await watched.page.$$eval('.panel', (cells) =>
            cells.map((c) => {
              const el = c as HTMLElement;
              const detail =
                el.dataset.panelType === 'stat'
                  ? [...el.querySelectorAll('.stat-value')].map((v) => v.textContent).join(',')
                  : `${el.querySelectorAll('canvas').length} canvas, ${el.dataset.points ?? 0} points`;
              return {
                title: el.dataset.title!,
                type: el.dataset.panelType!,
                state: el.dataset.state!,
                detail,
              };
            }),
          );
          return panels.every((p) => p.state === 'data') ? panels : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 3_000 },
      ).catch(() => undefined);
      expect(panels.length, uid).toBeGreaterThan(0);
      expect(
        panels.filter((p) => p.state !== 'data'),
        uid,
      ).toEqual([]);
      for (const panel of panels) {
        if (panel.type === 'stat') expect(panel.detail, panel.title).toMatch(/\d/);
        else expect(panel.detail, panel.title).toMatch(/^[1-9]\d* canvas, [1-9]\d* points$/);
      }
      await screenshot(watched.page, `dashboard-${uid}`, true);
      expect(watched.problems, uid).toEqual([]);
    }
  }, 600_000);

  it('shows exemplars on the latency panels, and clicking one opens a trace that exists', async () => {
    const watched = await watchedPage(browser);
    opened.push(watched);
    const { page } = watched;
    await pollUntil(
      'an exemplar on the Services dashboard',
      async () => {
        await page.goto(`${ui.url}/dashboards/observatory-services?from=15m`, { waitUntil: 'load' });
        await settled(page);
        await page.waitForFunction(
          () => document.querySelectorAll('.panel[data-state="loading"]').length === 0,
          { timeout: 30_000 },
        );
        return (await page.$('.panel a.exemplar')) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 3_000 },
    );
    // A real mouse click on an exemplar that nothing covers (they overlap where requests were alike).
    const target = await page.evaluate(() => {
      for (const el of document.querySelectorAll<HTMLElement>('.panel a.exemplar:not([hidden])')) {
        el.scrollIntoView({ block: 'center' });
        const box = el.getBoundingClientRect();
        const [x, y] = [box.left + box.width / 2, box.top + box.height / 2];
        const top = document.elementFromPoint(x, y);
        if (top instanceof HTMLElement && top.classList.contains('exemplar'))
          return { x, y, traceId: top.dataset.traceId! };
      }
      return undefined;
    });
    expect(target, 'an exemplar that is not covered').toBeDefined();
    const traceId = target!.traceId;
    await Promise.all([page.waitForNavigation(), page.mouse.click(target!.x, target!.y)]);
    expect(new URL(page.url()).pathname).toBe(`/traces/${traceId}`);
    expect(await settled(page)).toBe('loaded');
    expect(await page.$eval('#trace-id', (el) => el.textContent)).toBe(traceId);
    expect(watched.problems).toEqual([]);
  }, 180_000);
});

describe('a dashboard with a panel type the console does not draw', () => {
  it('says so in that panel, and draws the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'observatory-dashboards-'));
    writeFileSync(
      join(dir, 'mixed.json'),
      JSON.stringify({
        uid: 'test-mixed',
        title: 'Mixed',
        time: { from: 'now-15m', to: 'now' },
        panels: [
          { type: 'piechart', title: 'A pie', gridPos: { x: 0, y: 0, w: 12, h: 8 } },
          {
            type: 'stat',
            title: 'Targets up',
            gridPos: { x: 12, y: 0, w: 12, h: 8 },
            targets: [{ refId: 'A', expr: 'sum(up)' }],
          },
        ],
      }),
    );
    const other = await startUi({ ...uiConfig(), port: 0, dashboardsDir: dir });
    const watched = await watchedPage(browser);
    opened.push(watched);
    try {
      await watched.page.goto(`${other.url}/dashboards/test-mixed`, { waitUntil: 'load' });
      expect(await settled(watched.page)).toBe('loaded');
      const pie = await watched.page.$eval('.panel[data-panel-type="piechart"]', (el) => ({
        state: (el as HTMLElement).dataset.state,
        text: el.textContent,
      }));
      expect(pie.state).toBe('unsupported');
      expect(pie.text).toContain('Panel type "piechart" is not rendered in this console');
      expect(
        await watched.page.$eval('.panel[data-panel-type="stat"]', (el) => (el as HTMLElement).dataset.state),
      ).toBe('data');
    } finally {
      // The page refreshes its panels on a timer: closed before its console, or it would poll a closed port.
      await watched.page.close();
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the service map', () => {
  it('shows the gateway calling catalog, downloads, users and the ETL listener, each node linking to its traces', async () => {
    let edges: string[] = [];
    let last: WatchedPage | undefined;
    await pollUntil(
      'the four gateway edges on the service map',
      async () => {
        const { page, problems } = await open('/services');
        last = { page, problems };
        edges = await page.$$eval('g.edge', (gs) =>
          gs.map((g) => `${g.getAttribute('data-from')}->${g.getAttribute('data-to')}`),
        );
        return ['catalog', 'downloads', 'users', 'etl-listener'].every((to) =>
          edges.includes(`gateway->${to}`),
        )
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2_000 },
    ).catch(() => undefined);
    expect(edges).toEqual(
      expect.arrayContaining([
        'gateway->catalog',
        'gateway->downloads',
        'gateway->users',
        'gateway->etl-listener',
      ]),
    );
    const page = last!.page;
    const gatewayStats = await page.$eval(
      'a.node[data-service="gateway"] .node-stats',
      (el) => el.textContent,
    );
    expect(gatewayStats).toMatch(/req\/s/);
    await screenshot(page, 'services');
    await Promise.all([page.waitForNavigation(), page.click('a.node[data-service="catalog"]')]);
    expect(new URL(page.url()).search).toBe('?service=catalog');
    expect(await settled(page)).toBe('loaded');
    expect(last!.problems).toEqual([]);
  });
});

describe('the lake page', () => {
  it('runs an example query, and refuses anything but a read-only SELECT with a clear message', async () => {
    // The lake fills when the compaction job runs over the events the demo traffic raised.
    await pollUntil(
      'search_made events in the curated lake after compaction',
      async () => {
        expect((await compaction()).status).toBe('done');
        const response = await fetch(`${ui.url}/api/lake/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sql: "SELECT count(*) AS n FROM events WHERE event_name = 'search_made'" }),
        });
        const { rows } = (await response.json()) as { rows: { n: number }[] };
        return rows[0]!.n > 0 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2_000 },
    );
    const { page, state, problems } = await open('/lake', { allowedStatuses: [400] });
    expect(state).toBe('loaded');
    expect(await page.$$eval('#lake-result th', (ths) => ths.map((th) => th.textContent))).toEqual([
      'event_name',
      'events',
      'traces',
    ]);
    const names = await page.$$eval('#lake-result tbody tr td:first-child', (tds) =>
      tds.map((td) => td.textContent),
    );
    expect(names).toContain('search_made');
    await screenshot(page, 'lake');
    const refused: [string, RegExp][] = [
      ["COPY (SELECT 1) TO '/tmp/x.csv'", /only a read-only SELECT or WITH query/],
      ["SELECT * FROM read_csv('/etc/passwd')", /read_csv\(\) is not allowed/],
      ['SELECT 1; DROP TABLE events', /only one statement/],
      ["SELECT * FROM '/etc/hostname'", /hostname/],
    ];
    for (const [sql, why] of refused) {
      await page.$eval(
        'textarea[name="sql"]',
        (el, value) => ((el as HTMLTextAreaElement).value = value),
        sql,
      );
      await page.click('.lake-form button[type="submit"]');
      expect(await settled(page)).toBe('error');
      expect(await page.$eval('#lake-result .message.error', (el) => el.textContent), sql).toMatch(why);
    }
    await page.click('button.example');
    expect(await settled(page)).toBe('loaded');

    // A result of millions of rows: the page shows the first 5 000 and says there are more.
    await page.$eval(
      'textarea[name="sql"]',
      (el) =>
        ((el as HTMLTextAreaElement).value = "SELECT range AS i, repeat('x', 100) AS s FROM range(3000000)"),
    );
    await page.click('.lake-form button[type="submit"]');
    expect(await settled(page)).toBe('loaded');
    expect(await page.$eval('#lake-summary', (el) => (el as HTMLElement).dataset.truncated)).toBe('true');
    expect(await page.$eval('#lake-summary', (el) => el.textContent)).toMatch(/reads at most 5000/);
    expect(await page.$$eval('#lake-result tbody tr', (rows) => rows.length)).toBe(5000);
    expect(problems).toEqual([]);
  }, 180_000);
});

/** A demo search of `limit` scenes; its trace ID once Jaeger has every span of it. */
async function demoSearch(limit: number): Promise<string> {
  const response = await fetch(
    `${platform.urls.gateway}/api/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-02&limit=${limit}`,
    { headers: { 'x-user-id': `ui-${randomBytes(4).toString('hex')}` } },
  );
  expect(response.status).toBe(200);
  const { scenes } = (await response.json()) as { scenes: unknown[] };
  const traceId = parseTraceId(response.headers.get('traceresponse')!);
  await fetchTrace(traceId, 4 + 3 * scenes.length + 2);
  return traceId;
}

/** `service\u0001operation` → spans, as the compare page and the statistics count them. */
function countsOf(trace: JaegerTrace): Map<string, number> {
  const counts = new Map<string, number>();
  for (const span of trace.spans) {
    const key = `${trace.processes[span.processID]!.serviceName}\u0001${span.operationName}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe("the trace page's statistics and flame graph", () => {
  it('count every span per service and operation with total, self, min, avg and max, sortable by any column', async () => {
    const traceId = await demoSearch(3);
    const trace = await fetchTrace(traceId);
    const { page, state, problems } = await open(`/traces/${traceId}`);
    expect(state).toBe('loaded');
    expect(await page.$$eval('[role=tab]', (tabs) => tabs.map((t) => t.textContent))).toEqual([
      'Waterfall',
      'Statistics',
      'Flame graph',
    ]);
    await page.click('[role=tab][data-view=statistics]');
    await page.waitForSelector('#statistics tbody tr');
    expect(new URL(page.url()).hash).toBe('#statistics');
    expect(await page.$eval('#waterfall', (el) => (el as HTMLElement).hidden)).toBe(true);
    const rows = await page.$$eval('#statistics tbody tr', (trs) =>
      trs.map((tr) => {
        const el = tr as HTMLElement;
        const cells = [...el.querySelectorAll('td')].map((td) => td.dataset.value);
        return {
          key: `${el.dataset.service}\u0001${el.dataset.operation}`,
          count: Number(cells[2]),
          total: Number(cells[4]),
          self: Number(cells[5]),
          min: Number(cells[6]),
          avg: Number(cells[7]),
          max: Number(cells[8]),
        };
      }),
    );
    expect(new Map(rows.map((r) => [r.key, r.count]))).toEqual(countsOf(trace));
    for (const row of rows) {
      expect(row.self).toBeLessThanOrEqual(row.total + 1e-9);
      expect(row.min).toBeLessThanOrEqual(row.avg + 1e-9);
      expect(row.avg).toBeLessThanOrEqual(row.max + 1e-9);
      expect(row.avg * row.count).toBeCloseTo(row.total, 1);
    }
    // Most total time first; a heading click sorts by it, a second click the other way.
    const totals = rows.map((r) => r.total);
    expect(totals).toEqual([...totals].sort((a, b) => b - a));
    const column = (n: number) =>
      page.$$eval(`#statistics tbody tr td:nth-child(${n})`, (tds) =>
        tds.map((td) => Number((td as HTMLElement).dataset.value)),
      );
    await page.click('#statistics th[data-column="count"] button');
    const counts = await column(3);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    await page.click('#statistics th[data-column="count"] button');
    expect(await column(3)).toEqual([...counts].sort((a, b) => a - b));
    expect(
      await page.$eval('#statistics th[data-column="count"]', (th) => th.getAttribute('aria-sort')),
    ).toBe('ascending');
    await screenshot(page, 'trace-statistics', true);
    expect(problems).toEqual([]);
  });

  it('draw a flame graph whose boxes zoom on a click and open the longest span with its logs and events', async () => {
    const traceId = await demoSearch(2);
    await settledSignals(traceId, ({ logs }) => logs.some((l) => l.body === 'scene search'));
    const { page, state, problems } = await open(`/traces/${traceId}#flamegraph`);
    expect(state).toBe('loaded');
    const frames = await page.$$eval('#flamegraph .frame', (els) =>
      els.map((el) => {
        const box = el.getBoundingClientRect();
        const e = el as HTMLElement;
        return {
          id: e.dataset.frameId!,
          service: e.dataset.service,
          depth: Number(e.dataset.depth),
          left: box.left,
          width: box.width,
        };
      }),
    );
    const graph = await page.$eval('#flamegraph .flame', (el) => el.getBoundingClientRect().width);
    const root = frames.find((f) => f.depth === 0)!;
    expect(root.service).toBe('gateway');
    expect(root.width).toBeGreaterThan(graph * 0.95);
    // A child never leaves its parent.
    for (const frame of frames.filter((f) => f.depth > 0)) {
      const parent = frames.find((f) => f.id === frame.id.split('\u0000').slice(0, -1).join('\u0000'))!;
      expect(frame.left).toBeGreaterThanOrEqual(parent.left - 1);
      expect(frame.left + frame.width).toBeLessThanOrEqual(parent.left + parent.width + 1);
    }
    // The catalog's server span: zoomed to the full width, and its details open with the log line it emitted.
    const catalog = frames.find((f) => f.service === 'catalog' && f.width < graph * 0.99)!;
    expect(catalog).toBeDefined();
    // Frame IDs hold control characters (the path's separators) that a CSS selector cannot name.
    const clickFrame = (id: string) =>
      page.$$eval(
        '#flamegraph .frame',
        (els, wanted) =>
          (els.find((el) => (el as HTMLElement).dataset.frameId === wanted) as HTMLElement).click(),
        id,
      );
    await clickFrame(catalog.id);
    await page.waitForFunction(
      (id) => (document.querySelector('#flamegraph .flame') as HTMLElement).dataset.focus === id,
      {},
      catalog.id,
    );
    const zoomed = await page.$$eval(
      '#flamegraph .frame',
      (els, wanted) =>
        els.find((el) => (el as HTMLElement).dataset.frameId === wanted)!.getBoundingClientRect().width,
      catalog.id,
    );
    expect(zoomed).toBeGreaterThan(graph * 0.95);
    await page.waitForSelector('#span-details table.attributes');
    expect(await page.$eval('#span-details .chip', (el) => el.textContent)).toBe('catalog');
    // Somewhere the `scene search` line was logged: the box of the span that logged it opens with it.
    await page.click('#flamegraph button.reset');
    const every = await page.$$eval('#flamegraph .frame', (els) =>
      els.map((el) => (el as HTMLElement).dataset.frameId!),
    );
    let sawLog = false;
    for (const id of every) {
      await page.click('#flamegraph button.reset');
      await clickFrame(id);
      const text = await page.$eval('#span-details', (el) => el.textContent ?? '');
      if (text.includes('scene search')) sawLog = true;
    }
    expect(sawLog).toBe(true);
    await screenshot(page, 'trace-flamegraph', true);
    await page.click('#flamegraph button.reset');
    expect(await page.$eval('#flamegraph .flame', (el) => (el as HTMLElement).dataset.focus)).toBe('');
    expect(problems).toEqual([]);
  });
});

describe('comparing two traces', () => {
  it('aligns two searches of one route, ticked on the traces list, with counts, differences and both critical paths', async () => {
    const a = await demoSearch(1);
    const b = await demoSearch(3);
    const [traceA, traceB] = [await fetchTrace(a), await fetchTrace(b)];
    const { page, problems } = await open('/traces?service=gateway&lookback=15m&limit=50&live=0');
    for (const id of [a, b]) {
      await pollUntil(`trace ${id} on the traces list`, async () => {
        if (await page.$(`input.tick[data-trace-id="${id}"]`)) return true;
        await page.click('form.filters button[type="submit"]');
        await settled(page);
        return undefined;
      });
    }
    expect(await page.$eval('#compare', (el) => (el as HTMLButtonElement).disabled)).toBe(true);
    await page.click(`input.tick[data-trace-id="${a}"]`);
    await page.click(`input.tick[data-trace-id="${b}"]`);
    expect(await page.$eval('#compare', (el) => (el as HTMLButtonElement).disabled)).toBe(false);
    await Promise.all([page.waitForNavigation(), page.click('#compare')]);
    expect(new URL(page.url()).pathname).toBe(`/compare/${a}/${b}`);
    expect(await settled(page)).toBe('loaded');
    const rows = await page.$$eval('#compare-rows tbody tr', (trs) =>
      trs.map((tr) => {
        const el = tr as HTMLElement;
        return {
          key: `${el.dataset.service}\u0001${el.dataset.operation}`,
          presence: el.dataset.presence,
          a: Number(el.dataset.countA),
          b: Number(el.dataset.countB),
          diff: el.querySelector('td:nth-child(4)')!.textContent,
        };
      }),
    );
    const sum = (side: 'a' | 'b', key: string) =>
      rows.filter((r) => r.key === key).reduce((n, r) => n + r[side], 0);
    for (const [key, n] of countsOf(traceA)) expect(sum('a', key), key).toBe(n);
    for (const [key, n] of countsOf(traceB)) expect(sum('b', key), key).toBe(n);
    expect(rows.every((r) => r.presence === 'both')).toBe(true);
    // Three scenes read where one was: the rows that differ add up to the difference of the span counts, each
    // showing its own difference.
    const differ = rows.filter((r) => r.a !== r.b);
    expect(differ.length).toBeGreaterThan(0);
    expect(differ.reduce((n, r) => n + r.b - r.a, 0)).toBe(traceB.spans.length - traceA.spans.length);
    for (const row of differ)
      expect(row.diff, row.key).toBe(`${row.b > row.a ? '+' : '−'}${Math.abs(row.b - row.a)}`);
    for (const side of ['A', 'B']) {
      const steps = await page.$$eval(`.critical-path[data-side="${side}"] li`, (lis) => lis.length);
      expect(steps, side).toBeGreaterThan(0);
    }
    await screenshot(page, 'compare', true);
    expect(problems).toEqual([]);
  });

  it('marks the spans only one trace has, and compares two runs of one ETL job chunk by chunk', async () => {
    const search = await demoSearch(1);
    const clean = await submitJob();
    const retried = await submitJob({ chunks: [0], kind: 'throw', attempts: 1 });
    for (const job of [clean, retried])
      await fetchTrace(job.trace_id, (t) => t.spans.some((s) => s.operationName === 'etl.job crop_stats'));

    const other = await open(`/compare/${search}/${clean.trace_id}`);
    expect(other.state).toBe('loaded');
    const presence = await other.page.$$eval('#compare-rows tbody tr', (trs) =>
      trs.map((tr) => [
        (tr as HTMLElement).dataset.presence,
        tr.querySelector('.presence')?.textContent ?? null,
      ]),
    );
    expect(presence.some(([p, label]) => p === 'only-a' && label === 'only in A')).toBe(true);
    expect(presence.some(([p, label]) => p === 'only-b' && label === 'only in B')).toBe(true);

    const { page, state, problems } = await open(`/compare/${clean.trace_id}/${retried.trace_id}`);
    expect(state).toBe('loaded');
    const invokes = await page.$$eval('#compare-rows tbody tr[data-operation="crop_stats invoke"]', (trs) =>
      trs.map((tr) => ({
        a: Number((tr as HTMLElement).dataset.countA),
        b: Number((tr as HTMLElement).dataset.countB),
      })),
    );
    const total = (side: 'a' | 'b') => invokes.reduce((n, r) => n + r[side], 0);
    expect(total('a')).toBe(clean.chunks.total);
    // The retried chunk ran twice.
    expect(total('b')).toBe(retried.chunks.total + 1);
    expect(await page.$$eval('#compare-services tbody tr', (trs) => trs.length)).toBeGreaterThan(0);
    expect([...other.problems, ...problems]).toEqual([]);
  });
});

describe('colours', () => {
  it('keep red for errors: every service has one non-alarming colour, the same on the trace page, the list and the map', async () => {
    const traceId = await demoSearch(1);
    const colours = new Map<string, Set<string>>();
    const note = (pairs: string[][]) => {
      for (const [service, colour] of pairs) {
        if (!colours.has(service!)) colours.set(service!, new Set());
        colours.get(service!)!.add(colour!);
      }
    };
    const trace = await open(`/traces/${traceId}`);
    note(
      await trace.page.$$eval('.row.span', (rows) =>
        rows.map((r) => [
          (r as HTMLElement).dataset.service!,
          getComputedStyle(r.querySelector('.bar')!).backgroundColor,
        ]),
      ),
    );
    note(
      await trace.page.$$eval('.trace-summary .chip', (chips) =>
        chips.map((c) => [c.textContent!, getComputedStyle(c).getPropertyValue('--c').trim()]),
      ),
    );
    const list = await open('/traces?lookback=15m&limit=50&live=0');
    note(
      await list.page.$$eval('tr[data-trace-id] td:nth-child(3)', (tds) =>
        tds.map((td) => [
          td.textContent!.trim().split(' ')[0]!,
          getComputedStyle(td.querySelector('.dot')!).backgroundColor,
        ]),
      ),
    );
    const map = await open('/services');
    note(
      await map.page.$$eval('a.node[data-service]', (nodes) =>
        nodes.map((n) => [
          n.getAttribute('data-service')!,
          getComputedStyle(n.querySelector('rect[fill]')!).fill,
        ]),
      ),
    );
    const normal = (css: string) => {
      if (css.startsWith('#')) {
        const n = Number.parseInt(css.slice(1), 16);
        return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
      }
      return css;
    };
    expect(colours.get('gateway')?.size).toBeGreaterThan(0);
    for (const [service, seen] of colours) {
      const distinct = new Set([...seen].map(normal));
      expect([...distinct], service).toHaveLength(1);
      expect(isAlarming([...distinct][0]!), `${service} ${[...distinct][0]}`).toBe(false);
    }
    // Red still marks what failed.
    expect(
      isAlarming(
        await trace.page
          .evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--bad'))
          .then(normal),
      ),
    ).toBe(true);
    expect([...trace.problems, ...list.problems, ...map.problems]).toEqual([]);
  });

  it('fit every axis label of the Services dashboard at every width the tests use', async () => {
    for (const width of [400, 800, 1440]) {
      const watched = await watchedPage(browser, { width });
      opened.push(watched);
      await watched.page.goto(`${ui.url}/dashboards/observatory-services`, { waitUntil: 'load' });
      await settled(watched.page);
      await watched.page.waitForFunction(
        () => document.querySelectorAll('.panel[data-state="loading"]').length === 0,
        { timeout: 30_000 },
      );
      const axes = await watched.page.$$eval('.uplot', (charts) =>
        charts.map((chart) => {
          const el = chart as HTMLElement;
          const labels = JSON.parse(el.dataset.yLabels ?? '[]') as string[];
          const context = document.createElement('canvas').getContext('2d')!;
          context.font = el.dataset.yFont ?? '';
          const widest = Math.max(0, ...labels.map((l) => context.measureText(l).width / devicePixelRatio));
          return { labels, need: widest + Number(el.dataset.yTickPx), have: Number(el.dataset.yAxisPx) };
        }),
      );
      expect(axes.length, `${width} px`).toBeGreaterThan(0);
      for (const axis of axes) {
        expect(axis.labels.length, `${width} px`).toBeGreaterThan(0);
        expect(axis.need, `${width} px: ${axis.labels.join(', ')}`).toBeLessThanOrEqual(axis.have);
      }
      if (width === 400) await screenshot(watched.page, 'dashboard-services-narrow', true);
      expect(watched.problems).toEqual([]);
    }
  });
});

describe("the lake page's tables", () => {
  it('lists every table with the columns and types DuckDB has, names them all in the hint, and inserts a name on click', async () => {
    const { page, state, problems } = await open('/lake', { allowedStatuses: [400] });
    expect(state).toBe('loaded');
    await page.waitForSelector('#lake-tables[data-state="loaded"]');
    const listed = await page.$$eval('#lake-tables .lake-table', (tables) =>
      tables.map((t) => ({
        name: (t as HTMLElement).dataset.table!,
        columns: [...t.querySelectorAll('li[data-column]')].map((li) => [
          (li as HTMLElement).dataset.column!,
          (li as HTMLElement).dataset.type!,
        ]),
      })),
    );
    expect(listed.map((t) => t.name).sort()).toEqual(['events', 'logs', 'metrics', 'rejected', 'spans']);
    for (const table of listed) {
      const response = await fetch(`${ui.url}/api/lake/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql: `SELECT column_name, column_type FROM (DESCRIBE ${table.name})` }),
      });
      const { rows } = (await response.json()) as { rows: { column_name: string; column_type: string }[] };
      expect(table.columns, table.name).toEqual(rows.map((r) => [r.column_name, r.column_type]));
    }
    const hint = await page.$eval('#lake-hint', (el) => el.textContent ?? '');
    for (const name of ['events', 'rejected', 'logs', 'metrics', 'spans']) expect(hint).toContain(name);
    await page.$eval('textarea[name="sql"]', (el) => {
      const area = el as HTMLTextAreaElement;
      area.value = 'SELECT  FROM spans';
      area.setSelectionRange(7, 7);
    });
    await page.click('#lake-tables .lake-table[data-table="spans"] summary');
    const column = listed.find((t) => t.name === 'spans')!.columns[1]![0]!;
    await page.click(`#lake-tables .lake-table[data-table="spans"] li[data-column="${column}"] button`);
    expect(await page.$eval('textarea[name="sql"]', (el) => (el as HTMLTextAreaElement).value)).toBe(
      `SELECT ${column} FROM spans`,
    );
    await page.click('.lake-form button[type="submit"]');
    expect(await settled(page)).toBe('loaded');
    await screenshot(page, 'lake-tables');
    expect(problems).toEqual([]);
  });
});

describe('every page', () => {
  it('threw nothing in the console', () => {
    expect(opened.length).toBeGreaterThan(5);
    expect(opened.flatMap((o) => o.problems)).toEqual([]);
  });
});
