/**
 * V8 keeps the heap pages a collection has emptied in a page pool, resident, and gives them back to the system only
 * in a memory-reducing collection — which it schedules when a process looks idle, so a service under steady load
 * almost never gets one. A burst (the catalog's seeding at start, a stall that queued requests) thus leaves its high
 * water mark in the RSS for good, beside a flat heap (docs/performance.md, the soak). This module measures the pool
 * from Linux's /proc/self/smaps (V8's regular pages are anonymous mappings of 256 KiB each; its heap statistics count
 * only those in use) and, when the pool holds more than a threshold, runs one memory-reducing collection — a pause
 * of tens of milliseconds for a heap of tens of MiB, at most once per interval (common/config.ts heapReleaseSettings).
 */
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The size of V8's regular heap pages (its `kPageSize`), each mapped on its own. */
const V8_PAGE_BYTES = 256 * 1024;

/** One mapping of /proc/<pid>/smaps: its address range, its path (empty for anonymous memory) and resident KiB. */
export interface Mapping {
  start: number;
  end: number;
  path: string;
  rssKb: number;
}

/** The process's mappings, or undefined where /proc is not there (not Linux) or the process is gone. */
export function mappings(pid: number | 'self' = 'self'): Mapping[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const maps: Mapping[] = [];
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      maps.push({
        start: parseInt(header[1]!, 16),
        end: parseInt(header[2]!, 16),
        path: header[3]!,
        rssKb: 0,
      });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && maps.length > 0) maps.at(-1)!.rssKb = Number(rss[1]);
  }
  return maps;
}

/** Anonymous memory: no path, or a name the process gave it. */
export const isAnonymous = (map: Mapping): boolean => map.path === '' || map.path.startsWith('[anon');

/** Whether the mapping has the size of one of V8's regular heap pages. */
export const isV8Page = (map: Mapping): boolean => isAnonymous(map) && map.end - map.start === V8_PAGE_BYTES;

/**
 * MiB of V8 heap pages this process holds resident beyond those its heap spaces use: the page pool. Undefined where
 * /proc/self/smaps cannot be read.
 */
export function pooledHeapMiB(): number | undefined {
  const maps = mappings();
  if (!maps) return undefined;
  const residentPages = maps.filter(isV8Page).reduce((sum, map) => sum + map.rssKb * 1024, 0);
  // The large-object spaces map each object on its own, in mappings of other sizes.
  const inUse = getHeapSpaceStatistics()
    .filter((space) => !space.space_name.includes('lo_space'))
    .reduce((sum, space) => sum + space.physical_space_size, 0);
  return Math.max(0, residentPages - inUse) / 2 ** 20;
}

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let gcFunction: GcFunction | undefined;

/**
 * Runs one memory-reducing collection (V8's "last resort" collection, the one that empties the page pool). The
 * collector is taken from a fresh context made while `--expose-gc` is on, and the flag is turned off again, so the
 * application's own global scope never gets a `gc`.
 */
export function releaseHeapPages(): void {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc');
    try {
      gcFunction = runInNewContext('gc') as GcFunction;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  gcFunction({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/** What one release did: the pool before and after, and how long the collection held the event loop. */
export interface HeapRelease {
  pooledMiB: number;
  pauseMs: number;
  leftMiB: number;
}

export interface HeapReleaseSettings {
  /** Release when the pool holds more than this many MiB; 0 never releases. */
  thresholdMiB: number;
  /** How often the pool is measured, in milliseconds. */
  intervalMs: number;
  /**
   * One more check this long after the first (when shorter than the interval): a process's start-up work — the
   * catalog seeds its store, the first requests load and compile — leaves its pool then, given back within a minute
   * instead of at the first interval. @default 60000
   */
  settleMs?: number;
}

/**
 * Releases the page pool now if it is over the threshold, once more after `settleMs`, and then checks every interval
 * (unref'd timers: they never keep the process alive); `onRelease` hears of each release. Returns a function that stops the checks. Errors never reach the application: a check that
 * cannot measure does nothing.
 */
export function keepHeapPagesReleased(
  settings: HeapReleaseSettings,
  onRelease: (release: HeapRelease) => void = () => {},
): () => void {
  if (settings.thresholdMiB <= 0) return () => {};
  const check = () => {
    try {
      const pooled = pooledHeapMiB();
      if (pooled === undefined || pooled <= settings.thresholdMiB) return;
      const started = performance.now();
      releaseHeapPages();
      onRelease({ pooledMiB: pooled, pauseMs: performance.now() - started, leftMiB: pooledHeapMiB() ?? 0 });
    } catch {
      // Measuring is best effort; the process goes on either way.
    }
  };
  check();
  const settleMs = settings.settleMs ?? 60_000;
  const settled = settleMs < settings.intervalMs ? setTimeout(check, settleMs) : undefined;
  settled?.unref();
  const timer = setInterval(check, settings.intervalMs);
  timer.unref();
  return () => {
    clearTimeout(settled);
    clearInterval(timer);
  };
}
