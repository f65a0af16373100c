/**
 * The console against a page on another origin, in a real browser (Debian's Chromium, headless): a site the test
 * serves on its own port — the same site as the console (127.0.0.1, another port) and another site (localhost) —
 * makes the browser send the console what a malicious page would, and the browser sees every request refused. Only
 * the console and the browser run here (no demo traffic); the lake queries sync from the stack's S3 store.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, watchedPage } from '../../bench/lib/browser.ts';
import { startUi, uiConfig, type UiServer } from '../../console/index.ts';

let ui: UiServer;
let browser: Browser;
beforeAll(async () => {
  ui = await startUi({ ...uiConfig(), port: 0 });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await ui?.close();
});

describe('a page on another origin', () => {
  it('cannot make the browser run a lake query or read the API: its fetches and its text/plain form get 403', async () => {
    const attacker = await attackerSite(ui.url);
    try {
      const port = (attacker.address() as AddressInfo).port;
      // Another port of this machine is the same site (Sec-Fetch-Site: same-site) but another origin; localhost
      // is another site (cross-site).
      for (const site of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
        const { page } = await watchedPage(browser, { allowedStatuses: [403] });
        try {
          const seen: string[] = [];
          page.on('response', (response) => {
            const url = new URL(response.url());
            if (url.origin === ui.url && url.pathname.startsWith('/api/'))
              seen.push(`${response.request().method()} ${url.pathname} ${response.status()}`);
          });
          await page.goto(`${site}/`, { waitUntil: 'load' });
          await page.waitForFunction(() => document.body.dataset.done === 'true', { timeout: 30_000 });
          // The JSON POST needs the console's CORS consent to its preflight, which it never gives: never sent.
          expect(await page.$eval('#json', (el) => el.textContent), site).toMatch(/TypeError/);
          expect([...seen].sort(), site).toEqual([
            'GET /api/dashboards 403',
            'OPTIONS /api/lake/query 403',
            'POST /api/lake/query 403',
          ]);
          await Promise.all([page.waitForNavigation(), page.click('#send')]);
          expect(page.url()).toBe(`${ui.url}/api/lake/query`);
          expect(seen.slice(3), site).toEqual(['POST /api/lake/query 403']);
          expect(await page.$eval('body', (el) => el.textContent), site).toMatch(/refused: a request from/);
        } finally {
          await page.close();
        }
      }
    } finally {
      // Chromium keeps its connections to the site open: closed here, or close() would wait for them.
      attacker.closeAllConnections();
      await new Promise((resolve) => attacker.close(resolve));
    }
  }, 120_000);

  it('leaves the console answering its own lake page', async () => {
    const { page, problems } = await watchedPage(browser);
    try {
      await page.goto(`${ui.url}/lake?sql=${encodeURIComponent('SELECT 42 AS answer')}`, {
        waitUntil: 'load',
      });
      await page.waitForFunction(() => document.getElementById('content')?.dataset.state === 'loaded', {
        timeout: 60_000,
      });
      expect(await page.$$eval('#lake-result tbody td', (tds) => tds.map((td) => td.textContent))).toEqual([
        '42',
      ]);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);
});

/**
 * A site on its own port that, when opened, makes the browser send the console what a malicious page would: a no-cors
 * text/plain POST of a query, a no-cors GET of the API (as an image would), a JSON POST (which needs a preflight);
 * and a form that POSTs a JSON-looking text/plain body.
 */
async function attackerSite(consoleUrl: string): Promise<Server> {
  const query = JSON.stringify({ sql: 'SELECT 42 AS answer' });
  const page = `<!doctype html><title>elsewhere</title>
<form method="POST" enctype="text/plain" action="${consoleUrl}/api/lake/query">
<input type="hidden" name='{"sql": "SELECT 42 AS answer", "x": "' value='"}'>
<button id="send" type="submit">send</button></form>
<p id="json"></p>
<script>
(async () => {
  const api = ${JSON.stringify(consoleUrl)};
  await fetch(api + '/api/lake/query', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(query)} });
  await fetch(api + '/api/dashboards', { mode: 'no-cors' });
  document.getElementById('json').textContent = await fetch(api + '/api/lake/query', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(query)},
  }).then((r) => 'answered ' + r.status, (e) => String(e));
  document.body.dataset.done = 'true';
})();
</script>`;
  const server = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
