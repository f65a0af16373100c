/**
 * The trace page's three views on a big trace, in headless Chromium: an ETL job of `--spans` spans (500 by default:
 * a job span and, per chunk, the send, the invocation and its S3 read) sent as OTLP/JSON to the local stack's
 * Collector, read back from Jaeger by the console, and each view (waterfall, statistics, flame graph) opened on its
 * own page load. The figure per view is the time from the spans' arrival in the page (the end of its API request) to
 * the first frame after the view is in the document: the page's own cost, not Jaeger's. Needs the stack.
 *
 *   node bench/trace-views.ts [--spans 500] [--rounds 3]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Browser } from 'puppeteer-core';
import { localStackPorts } from '../common/config.ts';
import { startUi, uiConfig, type UiServer } from '../console/index.ts';
import type { TraceDocument } from '../trace/index.ts';
import { launchBrowser, screenshot, watchedPage } from './lib/browser.ts';
import type { OtlpSpan } from './lib/otlp-load.ts';
import { failedFigure, printFigures, type Figure } from './report.ts';

const VIEWS = ['waterfall', 'statistics', 'flamegraph'] as const;

/** An ETL job's trace of about `total` spans, as the ETL's processes send it: one request per service. */
export function etlJobTrace(total: number, nowMs = Date.now()): { traceId: string; bodies: string[] } {
  const traceId = randomBytes(16).toString('hex');
  const id = () => randomBytes(8).toString('hex');
  const ns = (ms: number) => String(BigInt(Math.round((nowMs + ms) * 1000)) * 1000n);
  const attr = (key: string, value: string | number) => ({
    key,
    value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value },
  });
  const chunks = Math.max(1, Math.floor((total - 1) / 3));
  const job = id();
  const listener: OtlpSpan[] = [
    {
      traceId,
      spanId: job,
      name: 'etl job crop_stats',
      kind: 1,
      startTimeUnixNano: ns(0),
      endTimeUnixNano: ns(chunks * 4 + 20),
      attributes: [attr('etl.job.id', traceId.slice(0, 12)), attr('etl.job.kind', 'crop_stats')],
    },
  ];
  // What three spans per chunk leave over: the job's planning steps, so that the trace has exactly `total` spans.
  for (let step = 0; step < total - 1 - 3 * chunks; step++) {
    listener.push({
      traceId,
      spanId: id(),
      parentSpanId: job,
      name: 'plan chunks',
      kind: 1,
      startTimeUnixNano: ns(step),
      endTimeUnixNano: ns(step + 1),
      attributes: [],
    });
  }
  const worker: OtlpSpan[] = [];
  for (let chunk = 0; chunk < chunks; chunk++) {
    const send = id();
    const invoke = id();
    const at = 5 + chunk * 4;
    listener.push({
      traceId,
      spanId: send,
      parentSpanId: job,
      name: 'etl.chunk send',
      kind: 4,
      startTimeUnixNano: ns(at),
      endTimeUnixNano: ns(at + 1),
      attributes: [attr('etl.job.id', traceId.slice(0, 12)), attr('etl.chunk.index', chunk)],
    });
    worker.push(
      {
        traceId,
        spanId: invoke,
        parentSpanId: send,
        name: 'crop_stats',
        kind: 5,
        startTimeUnixNano: ns(at + 1.5),
        endTimeUnixNano: ns(at + 3.5 + (chunk % 7)),
        attributes: [
          attr('faas.name', 'crop_stats'),
          attr('etl.job.id', traceId.slice(0, 12)),
          attr('etl.chunk.index', chunk),
        ],
      },
      {
        traceId,
        spanId: id(),
        parentSpanId: invoke,
        name: 'S3.GetObject',
        kind: 3,
        startTimeUnixNano: ns(at + 2),
        endTimeUnixNano: ns(at + 3),
        attributes: [attr('rpc.method', 'GetObject')],
      },
    );
  }
  const body = (service: string, spans: OtlpSpan[]) =>
    JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [attr('service.name', service)] },
          scopeSpans: [{ scope: { name: 'bench' }, spans }],
        },
      ],
    });
  return { traceId, bodies: [body('etl-listener', listener), body('etl-worker', worker)] };
}

async function sendTrace(spans: number): Promise<string> {
  const { traceId, bodies } = etlJobTrace(spans);
  const endpoint = `http://127.0.0.1:${localStackPorts().collector.otlpHttp}/v1/traces`;
  for (const body of bodies) {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    if (!response.ok) throw new Error(`the Collector answered ${response.status}: ${await response.text()}`);
  }
  return traceId;
}

async function waitForTrace(ui: UiServer, traceId: string, spans: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${ui.url}/api/traces/${traceId}?signals=0`);
    if (response.ok) {
      const doc = (await response.json()) as TraceDocument;
      if (doc.summary.span_count >= spans) return;
    }
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new Error(`trace ${traceId} did not reach Jaeger with ${spans} spans within 60 s`);
}

/** Milliseconds from the spans' API answer to the first frame with the view in the document. */
async function timeView(browser: Browser, url: string, view: string): Promise<number> {
  const { page, problems } = await watchedPage(browser, { width: 1440, height: 900 });
  try {
    await page.evaluateOnNewDocument((id: string) => {
      const w = window as unknown as { viewDrawnAt?: number };
      new MutationObserver((_records, observer) => {
        if (!document.getElementById(id)) return;
        observer.disconnect();
        requestAnimationFrame(() => (w.viewDrawnAt = performance.now()));
      }).observe(document, { childList: true, subtree: true });
    }, view);
    await page.goto(`${url}#${view}`, { waitUntil: 'load' });
    await page.waitForFunction(
      () => (window as unknown as { viewDrawnAt?: number }).viewDrawnAt !== undefined,
      {
        timeout: 60_000,
      },
    );
    const elapsed = await page.evaluate(() => {
      const spans = performance.getEntriesByType('resource').find((e) => e.name.includes('signals=0')) as
        PerformanceResourceTiming | undefined;
      return (window as unknown as { viewDrawnAt: number }).viewDrawnAt - (spans?.responseEnd ?? 0);
    });
    await screenshot(page, `bench-trace-${view}`).catch(() => undefined);
    if (problems.length > 0) throw new Error(`the ${view} page reported: ${problems.join('; ')}`);
    return elapsed;
  } finally {
    await page.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: { spans: { type: 'string', default: '500' }, rounds: { type: 'string', default: '3' } },
  });
  const spans = Number(values.spans);
  const rounds = Number(values.rounds);
  const ui = await startUi({ ...uiConfig(), port: 0 });
  const browser = await launchBrowser();
  const figures: Figure[] = [];
  try {
    const traceId = await sendTrace(spans);
    const expected = spans;
    await waitForTrace(ui, traceId, expected);
    for (const view of VIEWS) {
      const id = `console-trace-${view}-${spans}`;
      try {
        const times: number[] = [];
        for (let round = 0; round < rounds; round++)
          times.push(await timeView(browser, `${ui.url}/traces/${traceId}`, view));
        figures.push({
          id,
          figure: `trace page, ${view} view of a ${expected}-span ETL job: spans answered → view drawn (median of ${rounds})`,
          ours: Math.round(median(times)),
          unit: 'ms',
          target: 1000,
          better: 'lower',
          note: `each round: ${times.map((t) => Math.round(t)).join(', ')} ms`,
        });
      } catch (error) {
        figures.push(failedFigure(id, `trace page, ${view} view`, error));
      }
    }
  } finally {
    await browser.close();
    await ui.close();
  }
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
