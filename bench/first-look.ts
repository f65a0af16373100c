/**
 * First look (issue 25): `npm run demo` on a warm machine (binaries built, the stack stopped) — how long until it
 * prints the first trace link, and how long that page, opened in headless Chromium, takes to show its waterfall with
 * the request's log lines and business events. Each round runs the demo with a stack of its own (a fresh state
 * folder, ports from --port-base) so that it starts from stopped, and stops it (Ctrl-C) once the page is measured.
 *
 *   npm run bench -- first-look [--rounds 1] [--port-base 27800]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'puppeteer-core';
import { REPO_ROOT } from '../common/paths.ts';
import { coldEnvironment } from './coldstart.ts';
import { launchBrowser, screenshot, watchedPage } from './lib/browser.ts';
import { firstAt, timedRun, type TimedLine } from './lib/timed-run.ts';
import { printFigures, type Figure } from './report.ts';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Seconds from goto to the waterfall with at least one span, one log line and one event, the page loaded. */
async function pageSeconds(browser: Browser, url: string): Promise<number> {
  const { page, problems } = await watchedPage(browser);
  const began = performance.now();
  await page.goto(url);
  await page.waitForFunction(
    () =>
      document.getElementById('content')?.dataset.state === 'loaded' &&
      document.querySelector('#waterfall .row.span') !== null &&
      document.querySelector('#waterfall .row.signal.log') !== null &&
      document.querySelector('#waterfall .row.signal.event') !== null,
    { timeout: 60_000, polling: 50 },
  );
  const seconds = (performance.now() - began) / 1000;
  await screenshot(page, 'first-look');
  await page.close();
  if (problems.length) throw new Error(`the first trace's page had problems: ${problems.join('; ')}`);
  return seconds;
}

interface Round {
  link: number;
  page: number;
  stackUp?: number;
  servicesUp?: number;
  load: number;
}

async function oneRound(browser: Browser, portBase: number): Promise<Round> {
  const state = mkdtempSync(join(tmpdir(), 'observatory-first-look-'));
  // Warm: the built binaries of this machine's cache; a stack of its own, started from stopped.
  const env = coldEnvironment(state, portBase, { warm: true });
  const stop = new AbortController();
  let onLink: (link: { url: string; at: number }) => void = () => {};
  const linked = new Promise<{ url: string; at: number }>((resolve) => (onLink = resolve));
  const echo = (line: TimedLine) => {
    process.stderr.write(`${line.at.toFixed(1).padStart(6)} ${line.text}\n`);
    const url = /^First trace .*: (http\S+)$/.exec(line.text)?.[1];
    if (url) onLink({ url, at: line.at });
  };
  const running = timedRun('npm', ['run', 'demo', '--', '--duration', '60'], {
    cwd: REPO_ROOT,
    env,
    echo,
    signal: stop.signal,
  });
  try {
    const link = await Promise.race([
      linked,
      running.then((run) => {
        throw new Error(`the demo ended (exit ${run.code}) without printing a first trace link`);
      }),
    ]);
    const page = await pageSeconds(browser, link.url);
    stop.abort();
    const run = await running;
    return {
      link: link.at,
      page,
      stackUp: firstAt(run.lines, /^stack: up in /),
      servicesUp: firstAt(run.lines, /^demo: (warming up|services up)/),
      load: run.loadBefore[0]!,
    };
  } finally {
    stop.abort();
    await running.catch(() => undefined);
    rmSync(state, { recursive: true, force: true });
  }
}

export async function runFirstLook(options: { rounds: number; portBase: number }): Promise<Figure[]> {
  const browser = await launchBrowser();
  const rounds: Round[] = [];
  try {
    for (let i = 0; i < options.rounds; i++) rounds.push(await oneRound(browser, options.portBase));
  } finally {
    await browser.close();
  }
  const load = `load ${rounds.map((r) => r.load.toFixed(1)).join(', ')}`;
  const of = (pick: (r: Round) => number | undefined) => median(rounds.map((r) => pick(r) ?? NaN));
  return [
    {
      id: 'firstlook.link',
      figure: `First look: \`npm run demo\` start → first trace link printed (median of ${rounds.length}; ${load})`,
      ours: of((r) => r.link),
      unit: 's',
      target: 20,
      better: 'lower',
      note: `stack up at ${of((r) => r.stackUp).toFixed(1)} s, services up at ${of((r) => r.servicesUp).toFixed(1)} s`,
    },
    {
      id: 'firstlook.page',
      figure: 'First look: that page in headless Chromium → waterfall with its logs and events',
      ours: of((r) => r.page),
      unit: 's',
      better: 'lower',
    },
    {
      id: 'firstlook.total',
      figure: 'First look: `npm run demo` start → the trace on screen with its logs and events',
      ours: of((r) => r.link + r.page),
      unit: 's',
      better: 'lower',
    },
  ];
}

export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '1' },
      'port-base': { type: 'string', default: '27800' },
    },
  });
  const figures = await runFirstLook({
    rounds: Number(values.rounds),
    portBase: Number(values['port-base']),
  });
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
