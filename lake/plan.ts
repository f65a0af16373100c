/**
 * Finding what to compact, without DuckDB: the ETL listener plans compaction jobs with this module alone, so a process
 * that only plans never loads the database library (tens of MiB resident). The compaction (compact.ts) marks each raw
 * object done with a marker object at markerKey; per signal, a watermark (the first arrival hour that may still need
 * work) bounds the listing, so its cost follows the hours not yet compacted, not the lake's history.
 */
import { dirname } from 'node:path';
import { signalOf, LAKE_SIGNALS, type LakeConfig, type LakeSignal } from './config.ts';
import { isRawObject } from './raw-keys.ts';
import type { S3Store } from '../common/s3-store.ts';

/** The marker object of a compacted (or failed) raw object. */
export function markerKey(config: LakeConfig, rawKey: string): string {
  return `${config.manifestPrefix}${rawKey}.json`;
}

/** The object holding a signal's watermark: beside the markers, keyed by the raw prefix it covers. */
function watermarkKey(config: LakeConfig, signal: LakeSignal): string {
  return `${config.manifestPrefix}watermark/${config.raw[signal]}hour.json`;
}

const HOUR_FOLDER = /^year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\//;

/** The arrival-hour folder of a raw key (`year=…/month=…/day=…/hour=…/`, relative to the prefix), if it has one. */
function hourOf(prefix: string, key: string): string | undefined {
  return HOUR_FOLDER.exec(key.slice(prefix.length))?.[0];
}

/** The hour folder (as the awss3 exporter names it, UTC) the instant falls in. */
function hourFolder(instant: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `year=${instant.getUTCFullYear()}/month=${p(instant.getUTCMonth() + 1)}/day=${p(instant.getUTCDate())}/hour=${p(instant.getUTCHours())}/`;
}

/**
 * Where a signal's compaction stands (one small object per signal, beside the markers): every hour before `hour` is
 * closed and done, except the few in `pending`, which still had objects without a marker when last listed.
 */
interface Watermark {
  /** The first hour folder that may still receive objects (`year=…/month=…/day=…/hour=…/`). */
  hour: string;
  /** Closed hours with work left, oldest first. */
  pending: string[];
  /**
   * Per open hour folder, a raw key that it and every key before it in the folder are compacted (and old enough:
   * lakeConfig `cursorLagMs`): the folder's listings start after it until the hour closes.
   */
  after: Record<string, string>;
}

/** What one signal's listing saw: its raw keys per hour folder, in key order, and the keys with a marker. */
interface Listing {
  folders: Map<string, string[]>;
  done: Set<string>;
}

/**
 * Raw objects of the signals (default: all) that have no manifest marker yet. Per signal, only the hour folders that
 * may hold work are listed — the pending ones and those from the watermark to the next hour, one listing each for
 * objects and markers — so the cost follows the hours not yet compacted, not the lake's history; and an open hour's
 * listings start after its cursor (Watermark.after), so they follow what arrived since, not the whole hour. An hour
 * that closes (lakeConfig `watermarkGraceHours` after its end: the Collector writes by arrival time, so a closed hour
 * gets no new objects) is listed whole once more, which finds an object that arrived behind its cursor; then the
 * watermark moves to the first hour that is not closed, and the closed hours that still have objects without a
 * marker are kept as pending. Without a watermark (a new lake), or with objects outside hour folders, the whole
 * prefix is listed.
 */
export async function unprocessedKeys(
  store: S3Store,
  config: LakeConfig,
  signals: readonly LakeSignal[] = LAKE_SIGNALS,
  now: Date = new Date(),
): Promise<string[]> {
  const keys: string[] = [];
  const open = hourFolder(new Date(now.getTime() - config.watermarkGraceHours * 3_600_000));
  for (const signal of signals) {
    const prefix = config.raw[signal];
    const watermark = await readWatermark(store, config, signal);
    const folders = watermark ? [...watermark.pending, ...hoursFrom(watermark.hour, now)] : [''];
    const listing: Listing = { folders: new Map(), done: new Set() };
    for (const folder of folders) {
      // A closing hour is listed whole; an open one from its cursor on.
      const after = folder >= open ? watermark?.after[folder] : undefined;
      const prefixes = (after ? windowPrefixes(after, now, folder) : undefined) ?? [`${prefix}${folder}`];
      // An hour folder holds objects only (listed as a folder: the local store reads that folder alone, not the
      // bucket); without a watermark the whole prefix is listed, at any depth. One listing at a time: the local
      // store holds one lock over each while it reads, and reads wait behind every listing queued before them.
      const list = folder ? store.listFolder.bind(store) : store.list.bind(store);
      const raw: string[] = [];
      for (const p of prefixes) {
        for (const o of await list(p, { startAfter: after })) if (isRawObject(o.key)) raw.push(o.key);
        const markers = await list(`${config.manifestPrefix}${p}`, {
          startAfter: after && `${config.manifestPrefix}${after}`,
        });
        for (const m of markers) listing.done.add(m.key.slice(config.manifestPrefix.length, -'.json'.length));
      }
      listing.folders.set(folder, raw.sort());
    }
    const pending = [...listing.folders.values()].flat().filter((key) => !listing.done.has(key));
    keys.push(...pending);
    await advanceWatermark(store, config, signal, { watermark, pending, listing, open, now });
  }
  return keys;
}

/** When the hour of a folder (`year=…/month=…/day=…/hour=…/`) begins, in ms since the epoch. */
function hourStart(folder: string): number {
  const [year, month, day, hour] = folder.match(/\d+/g)!.map(Number) as [number, number, number, number];
  return Date.UTC(year, month - 1, day, hour);
}

/** The hour folders from `first` to the hour after `now` (a little clock skew between hosts), oldest first. */
function hoursFrom(first: string, now: Date): string[] {
  const folders: string[] = [];
  const last = now.getTime() + 3_600_000;
  for (let t = hourStart(first); t <= last; t += 3_600_000) {
    folders.push(hourFolder(new Date(t)));
  }
  return folders;
}

/** A uuidv7's first 8 hex digits fix its time to a window of 2^16 ms (≈ 66 seconds); fewer digits, 16× wider each. */
const WINDOW_MS = 2 ** 16;
/** How far past `now` another host's clock may name an object. */
const CLOCK_SKEW_MS = 120_000;
/**
 * At most this many prefixes per folder, each a listing of its own: ten 66-second windows cover the cursor's lag
 * (cursorLagMs, 5 minutes), the minute since the last run and the clock skew, so a run lists what arrived since, not
 * 17.5-minute windows (two prefixes fell back to those and listed most of the hour again). The listings run one at a
 * time (unprocessedKeys): the local store holds one lock over each while it reads the whole folder, and eighty of them
 * at once held the catalog's reads back for 10 s (the soak's run 14). On AWS a listing is one indexed LIST request.
 */
const MAX_PREFIXES = 10;

/**
 * The fewest, narrowest key prefixes (at most MAX_PREFIXES) that hold every object of the hour folder named from the
 * cursor's time to `now` (plus CLOCK_SKEW_MS) or the hour's end, whichever is first — the Collector names an upload
 * and picks its folder from the same clock, so a folder's names end with its hour: the cursor's name up to the first
 * 8, 7 or 6 hex digits of its uuidv7, one per time window (≈ 66 s, 17.5 min or 4.7 h). Listing by these returns the
 * keys of those windows only, on any store (the local one ignores StartAfter and would return the whole hour).
 * Undefined when the cursor's name has no uuidv7 or no such prefixes exist (the folder is then listed whole).
 */
function windowPrefixes(cursor: string, now: Date, folder: string): string[] | undefined {
  const named = nameTime(cursor);
  if (named === undefined) return undefined;
  const name = cursor.slice(0, cursor.lastIndexOf('_') + 1);
  const first = Math.floor(named / WINDOW_MS);
  const end = Math.min(now.getTime() + CLOCK_SKEW_MS, hourStart(folder) + 3_600_000 - 1);
  const last = Math.floor(end / WINDOW_MS);
  if (last < first) return undefined;
  for (let digits = 8; digits >= 6; digits--) {
    const width = 16 ** (8 - digits);
    const [from, to] = [Math.floor(first / width), Math.floor(last / width)];
    if (to - from + 1 <= MAX_PREFIXES)
      return Array.from(
        { length: to - from + 1 },
        (_, i) => `${name}${(from + i).toString(16).padStart(digits, '0')}`,
      );
  }
  return undefined;
}

/**
 * The time a uuidv7 in the object's name was made (the Collector names each upload so, in lower-case hex), if it has
 * one.
 */
const UUIDV7 = /_([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.[^/_]*$/;

function nameTime(key: string): number | undefined {
  const match = UUIDV7.exec(key);
  return match ? parseInt(match[1]! + match[2]!, 16) : undefined;
}

/**
 * The folder's new cursor: the last of its keys (in key order, after the old cursor) up to which every key is done
 * and named more than `cursorLagMs` before `now`; the old cursor when the first key is not.
 */
function cursorOf(
  keys: string[],
  done: Set<string>,
  previous: string | undefined,
  config: LakeConfig,
  now: Date,
): string | undefined {
  let cursor = previous;
  for (const key of keys) {
    const named = nameTime(key);
    if (!done.has(key) || named === undefined || named > now.getTime() - config.cursorLagMs) break;
    cursor = key;
  }
  return cursor;
}

async function readWatermark(
  store: S3Store,
  config: LakeConfig,
  signal: LakeSignal,
): Promise<Watermark | undefined> {
  const stored = await store.getJson<Partial<Watermark>>(watermarkKey(config, signal));
  if (!stored?.hour || !HOUR_FOLDER.test(stored.hour)) return undefined;
  const prefix = config.raw[signal];
  const after = Object.fromEntries(
    Object.entries(stored.after ?? {}).filter(
      ([folder, key]) =>
        HOUR_FOLDER.test(folder) && typeof key === 'string' && key.startsWith(`${prefix}${folder}`),
    ),
  );
  return { hour: stored.hour, pending: (stored.pending ?? []).filter((h) => HOUR_FOLDER.test(h)), after };
}

async function advanceWatermark(
  store: S3Store,
  config: LakeConfig,
  signal: LakeSignal,
  seen: {
    watermark: Watermark | undefined;
    pending: string[];
    listing: Listing;
    open: string;
    now: Date;
  },
): Promise<void> {
  const prefix = config.raw[signal];
  for (const keys of seen.listing.folders.values())
    if (keys.some((key) => hourOf(prefix, key) === undefined)) return;
  const hour = seen.watermark && seen.watermark.hour > seen.open ? seen.watermark.hour : seen.open;
  const pending = [...new Set(seen.pending.map((key) => hourOf(prefix, key)!))]
    .filter((h) => h < hour)
    .sort();
  const after: Record<string, string> = {};
  for (const [folder, keys] of seen.listing.folders) {
    if (folder < hour) continue;
    const cursor = cursorOf(keys, seen.listing.done, seen.watermark?.after[folder], config, seen.now);
    if (cursor) after[folder] = cursor;
  }
  const before = seen.watermark;
  if (
    before?.hour === hour &&
    before.pending.join() === pending.join() &&
    JSON.stringify(before.after) === JSON.stringify(after)
  )
    return;
  await store.putJson(watermarkKey(config, signal), {
    hour,
    pending,
    after,
    updated_at: seen.now.toISOString(),
  });
}

export interface CompactionChunk {
  signal: LakeSignal;
  /** The raw objects' arrival-hour folder (`raw/<signal>/year=…/month=…/day=…/hour=…/`). */
  hour: string;
  keys: string[];
}

/** The work left, chunked per signal and arrival hour, at most `batchSize` objects per chunk. */
export async function planCompaction(
  store: S3Store,
  config: LakeConfig,
  batchSize: number,
  signals: readonly LakeSignal[] = LAKE_SIGNALS,
): Promise<CompactionChunk[]> {
  const byHour = new Map<string, CompactionChunk>();
  for (const key of await unprocessedKeys(store, config, signals)) {
    const hour = `${dirname(key)}/`;
    const chunk = byHour.get(hour) ?? { signal: signalOf(config, key)!, hour, keys: [] };
    chunk.keys.push(key);
    byHour.set(hour, chunk);
  }
  return [...byHour.values()].flatMap((chunk) => {
    const out: CompactionChunk[] = [];
    for (let i = 0; i < chunk.keys.length; i += batchSize) {
      out.push({ ...chunk, keys: chunk.keys.slice(i, i + batchSize) });
    }
    return out;
  });
}
