/**
 * Debian's Chromium, headless, driven by puppeteer-core (which never downloads a browser). Every page opened here
 * records its uncaught exceptions and console errors, and can be saved as a screenshot under
 * .observatory/screenshots/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { REPO_ROOT } from '../../stack/config.ts';

export const SCREENSHOT_DIR = join(REPO_ROOT, '.observatory', 'screenshots');

/** The system browser: CHROMIUM_PATH, else `chromium` on PATH (scripts/setup.sh installs Debian's). */
export function chromiumPath(): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return configured;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    throw new Error(
      'no chromium on PATH: run scripts/setup.sh (apt-get install chromium) or set CHROMIUM_PATH',
    );
  }
}

export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'],
  });
}

export interface WatchedPage {
  page: Page;
  /** Uncaught exceptions and console errors, in order. */
  problems: string[];
}

/**
 * A new page that records its problems. `allowedStatuses`: HTTP statuses the page is expected to receive (Chromium
 * logs each 4xx response as a console error, which for a deliberately unknown trace ID is not a problem).
 */
export async function watchedPage(
  browser: Browser,
  options: { width?: number; height?: number; allowedStatuses?: number[] } = {},
): Promise<WatchedPage> {
  const page = await browser.newPage();
  await page.setViewport({ width: options.width ?? 1280, height: options.height ?? 800 });
  const problems: string[] = [];
  const allowed = new Set(options.allowedStatuses ?? []);
  page.on('pageerror', (error) => problems.push(`uncaught: ${(error as Error).message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const status = /status of (\d{3})/.exec(message.text())?.[1];
    if (status !== undefined && allowed.has(Number(status))) return;
    problems.push(`console.error: ${message.text()} (${message.location().url ?? ''})`);
  });
  page.on('requestfailed', (request) => {
    // A page left while its refresh was in flight aborts that request: not a problem of the page.
    if (request.failure()?.errorText !== 'net::ERR_ABORTED') {
      problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
    }
  });
  return { page, problems };
}

/** Waits until the page's content says it has finished (data-state set, and not running or partly loaded). */
export async function settled(page: Page, timeoutMs = 30_000): Promise<string> {
  await page.waitForFunction(
    () => {
      const state = document.getElementById('content')?.dataset.state;
      return state !== undefined && state !== 'running' && state !== 'partial';
    },
    { timeout: timeoutMs },
  );
  return page.$eval('#content', (el) => (el as HTMLElement).dataset.state ?? '');
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: path as `${string}.png`, fullPage });
  return path;
}
