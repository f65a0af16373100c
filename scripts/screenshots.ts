/**
 * Regenerates the screenshots docs/ui.md shows (docs/images/*.png) from a running console with data in it:
 *   npm run demo            (in one terminal; it starts the console and traffic)
 *   node scripts/screenshots.ts [--url http://127.0.0.1:8686]
 * Uses the system Chromium, like the browser tests (bench/lib/browser.ts); nothing downloads a browser. With
 * pngquant on PATH (Debian: apt-get install pngquant) the PNGs are quantised, about a quarter of their size.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../common/paths.ts';
import type { TraceListing } from '../trace/index.ts';
import { launchBrowser, settled } from '../bench/lib/browser.ts';

const { values } = parseArgs({ options: { url: { type: 'string', default: 'http://127.0.0.1:8686' } } });
const base = values.url!.replace(/\/+$/, '');
const out = join(REPO_ROOT, 'docs', 'images');

/** A finished trace: among the newest that started at least 20 s ago, one without errors and with the most spans. */
async function recent(query: Record<string, string>): Promise<string> {
  const response = await fetch(
    `${base}/api/traces?${new URLSearchParams({ limit: '30', lookback: '1h', ...query })}`,
  );
  const traces = (await response.json()) as TraceListing[] | { error: string };
  const settled = Array.isArray(traces)
    ? traces.filter((t) => Date.parse(t.start_time) < Date.now() - 20_000).slice(0, 10)
    : [];
  if (settled.length === 0) {
    throw new Error(
      `no finished trace for ${JSON.stringify(query)} at ${base}: is \`npm run demo\` running?`,
    );
  }
  return settled.sort((a, b) => Number(a.error) - Number(b.error) || b.span_count - a.span_count)[0]!
    .trace_id;
}

/** Two finished traces of one route, the pair with the most different span counts (what the compare page is for). */
async function pair(query: Record<string, string>): Promise<[string, string] | undefined> {
  const response = await fetch(
    `${base}/api/traces?${new URLSearchParams({ limit: '30', lookback: '1h', ...query })}`,
  );
  const traces = ((await response.json()) as TraceListing[]).filter(
    (t) => !t.error && Date.parse(t.start_time) < Date.now() - 20_000,
  );
  if (traces.length < 2) return undefined;
  const sorted = traces.sort((a, b) => a.span_count - b.span_count);
  return [sorted[0]!.trace_id, sorted.at(-1)!.trace_id];
}

const search = await recent({ service: 'gateway', operation: 'GET /api/scenes' });
const searches = await pair({ service: 'gateway', operation: 'GET /api/scenes' });
const job = await recent({ service: 'etl-listener', operation: 'etl.job crop_stats' }).catch(() => undefined);
type Shot = [string, string, { fullPage?: boolean; width?: number; height?: number }];
const pages: Shot[] = [
  ['trace', `/traces/${search}`, { height: 900 }],
  ...(job ? [['trace-etl-job', `/traces/${job}`, { height: 900 }] as Shot] : []),
  ['trace-statistics', `/traces/${search}#statistics`, { height: 700 }],
  ['trace-flamegraph', `/traces/${job ?? search}#flamegraph`, { height: 560 }],
  ...(searches ? [['compare', `/compare/${searches[0]}/${searches[1]}`, { fullPage: true }] as Shot] : []),
  ['traces', '/traces?lookback=15m', {}],
  ['services', '/services', {}],
  ['dashboards', '/dashboards', { height: 420 }],
  ['dashboard-services', '/dashboards/observatory-services?from=15m', { fullPage: true }],
  ['lake', '/lake', { height: 640 }],
  ['trace-narrow', `/traces/${search}`, { width: 400, height: 800 }],
  ['dashboard-services-narrow', '/dashboards/observatory-services?from=15m', { width: 400, height: 900 }],
];

const pngquant = spawnSync('pngquant', ['--version']).status === 0;
if (!pngquant) process.stderr.write('pngquant not found: the PNGs are written unquantised (larger)\n');
mkdirSync(out, { recursive: true });
const browser = await launchBrowser();
try {
  for (const [name, path, options] of pages) {
    const page = await browser.newPage();
    await page.setViewport({ width: options.width ?? 1280, height: options.height ?? 760 });
    await page.goto(`${base}${path}`, { waitUntil: 'load' });
    await settled(page);
    await page
      .waitForFunction(() => document.querySelectorAll('.panel[data-state="loading"]').length === 0, {
        timeout: 30_000,
      })
      .catch(() => undefined);
    // A span's details open on the wide trace pages, as after a click.
    if (name === 'trace' || name === 'trace-etl-job') {
      const row = name === 'trace' ? '.row.span[data-service="catalog"]' : '.row.span[data-attempt="1"]';
      await page.click(row).catch(() => undefined);
    }
    const file = join(out, `${name}.png`) as `${string}.png`;
    await page.screenshot({ path: file, fullPage: options.fullPage ?? false });
    if (pngquant)
      execFileSync('pngquant', ['--quality', '70-90', '--speed', '1', '--force', '--ext', '.png', file]);
    process.stderr.write(`wrote ${file}\n`);
    await page.close();
  }
} finally {
  await browser.close();
}
