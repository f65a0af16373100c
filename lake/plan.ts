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
}

/**
 * Raw objects of the signals (default: all) that have no manifest marker yet. Per signal, only the hour folders that
 * may hold work are listed — the pending ones and those from the watermark to the next hour, one listing each for
 * objects and markers — so the cost follows the hours not yet compacted, not the lake's history. Then the watermark
 * moves to the first hour that is not closed yet (lakeConfig `watermarkGraceHours` after its end: the Collector
 * writes by arrival time, so a closed hour gets no new objects), and the closed hours that still have objects
 * without a marker are kept as pending. Without a watermark (a new lake), or with objects outside hour folders, the
 * whole prefix is listed.
 */
export async function unprocessedKeys(
  store: S3Store,
  config: LakeConfig,
  signals: readonly LakeSignal[] = LAKE_SIGNALS,
  now: Date = new Date(),
): Promise<string[]> {
  const keys: string[] = [];
  for (const signal of signals) {
    const prefix = config.raw[signal];
    const watermark = await readWatermark(store, config, signal);
    const folders = watermark ? [...watermark.pending, ...hoursFrom(watermark.hour, now)] : [''];
    const rawKeys: string[] = [];
    const done = new Set<string>();
    for (const folder of folders) {
      const [raw, markers] = await Promise.all([
        store.list(`${prefix}${folder}`),
        store.list(`${config.manifestPrefix}${prefix}${folder}`),
      ]);
      rawKeys.push(...raw.map((o) => o.key).filter((key) => isRawObject(key)));
      for (const m of markers) done.add(m.key.slice(config.manifestPrefix.length, -'.json'.length));
    }
    const pending = rawKeys.filter((key) => !done.has(key));
    keys.push(...pending);
    await advanceWatermark(store, config, signal, { watermark, rawKeys, pending, now });
  }
  return keys;
}

/** The hour folders from `first` to the hour after `now` (a little clock skew between hosts), oldest first. */
function hoursFrom(first: string, now: Date): string[] {
  const [year, month, day, hour] = first.match(/\d+/g)!.map(Number) as [number, number, number, number];
  const folders: string[] = [];
  const last = now.getTime() + 3_600_000;
  for (let t = Date.UTC(year, month - 1, day, hour); t <= last; t += 3_600_000) {
    folders.push(hourFolder(new Date(t)));
  }
  return folders;
}

async function readWatermark(
  store: S3Store,
  config: LakeConfig,
  signal: LakeSignal,
): Promise<Watermark | undefined> {
  const stored = await store.getJson<Partial<Watermark>>(watermarkKey(config, signal));
  if (!stored?.hour || !HOUR_FOLDER.test(stored.hour)) return undefined;
  return { hour: stored.hour, pending: (stored.pending ?? []).filter((h) => HOUR_FOLDER.test(h)) };
}

async function advanceWatermark(
  store: S3Store,
  config: LakeConfig,
  signal: LakeSignal,
  seen: { watermark: Watermark | undefined; rawKeys: string[]; pending: string[]; now: Date },
): Promise<void> {
  const prefix = config.raw[signal];
  if (seen.rawKeys.some((key) => hourOf(prefix, key) === undefined)) return;
  const open = hourFolder(new Date(seen.now.getTime() - config.watermarkGraceHours * 3_600_000));
  const hour = seen.watermark && seen.watermark.hour > open ? seen.watermark.hour : open;
  const pending = [...new Set(seen.pending.map((key) => hourOf(prefix, key)!))]
    .filter((h) => h < hour)
    .sort();
  if (seen.watermark?.hour === hour && seen.watermark.pending.join() === pending.join()) return;
  await store.putJson(watermarkKey(config, signal), { hour, pending, updated_at: seen.now.toISOString() });
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
