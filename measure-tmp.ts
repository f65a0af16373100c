import { launchBrowser, settled } from './test/support/browser.ts';
const t0 = Number(process.argv[2]) * 1000;
const base = 'http://127.0.0.1:8686';
let id: string | undefined;
while (!id) {
  try {
    const list = (await (await fetch(`${base}/api/traces?service=gateway&lookback=5m&limit=1`)).json()) as { trace_id: string }[];
    if (Array.isArray(list) && list.length > 0) id = list[0]!.trace_id;
  } catch {}
  if (!id) await new Promise((r) => setTimeout(r, 200));
}
const t1 = Date.now();
const browser = await launchBrowser();
const page = await browser.newPage();
await page.goto(`${base}/traces/${id}`);
const state = await settled(page);
const spans = await page.$$eval('.row.span', (r) => r.length);
const t2 = Date.now();
console.log(`first trace listed: ${((t1 - t0) / 1000).toFixed(1)} s; trace page loaded (${state}, ${spans} spans): ${((t2 - t0) / 1000).toFixed(1)} s`);
await browser.close();
