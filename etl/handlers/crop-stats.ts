/**
 * The crop-statistics worker: one chunk is one tile on one day. It reads that day's scenes of the tile from the
 * store, computes a vegetation index (NDVI = (nir − red) / (nir + red)) over every pixel, writes the result row to
 * the lake, and records `tile_processed`. Idempotent by (job_id, chunk_index): the result key is derived from both.
 */
import { trace } from '@opentelemetry/api';
import { dayKey, imageKey, type Scene } from '../../imagery/scenes.ts';
import { S3Store } from '../../common/s3-store.ts';
import { etlConfig } from '../config.ts';
import { track } from '../../tracker/track.ts';
import type { Handler } from '../types.ts';

export interface CropStatsPayload {
  tile: { index: number; bbox: Scene['bbox'] };
  date: string;
}

export interface CropStatsRow {
  job_id: string;
  chunk_index: number;
  tile_id: string;
  date: string;
  scenes: number;
  n_pixels: number;
  ndvi_mean: number | null;
  ndvi_p10: number | null;
  ndvi_p90: number | null;
}

let store: S3Store | undefined;
let catalogCacheMs: number | undefined;
/** Scene lists by day, kept while the sandbox is warm (at most CATALOG_DAYS days, each for catalogCacheMs). */
const catalog = new Map<string, { scenes: Scene[]; until: number }>();
const CATALOG_DAYS = 64;

export const resultKey = (jobId: string, chunkIndex: number) =>
  `curated/crop_stats/job_id=${jobId}/chunk-${String(chunkIndex).padStart(5, '0')}.json`;

export const handler: Handler<CropStatsPayload, CropStatsRow> = async (event) => {
  store ??= S3Store.fromSettings();
  const { tile, date } = event.payload;
  const tileId = `T${String(tile.index).padStart(2, '0')}`;
  const scenes = (await scenesOfDay(store, date)).filter((scene) => scene.id.endsWith(`_${tileId}`));
  const images = await Promise.all(scenes.map((scene) => store!.find(imageKey(scene.id))));
  const values: number[] = [];
  for (const bytes of images) if (bytes) values.push(...ndvi(bytes));
  values.sort((a, b) => a - b);
  const row: CropStatsRow = {
    job_id: event.job_id,
    chunk_index: event.chunk_index,
    tile_id: tileId,
    date,
    scenes: scenes.length,
    n_pixels: values.length,
    ndvi_mean: values.length ? round(values.reduce((a, b) => a + b, 0) / values.length) : null,
    ndvi_p10: values.length ? round(values[Math.floor(values.length * 0.1)]!) : null,
    ndvi_p90: values.length ? round(values[Math.floor(values.length * 0.9)]!) : null,
  };
  trace
    .getActiveSpan()
    ?.setAttributes({ 'crop.tile_id': tileId, 'crop.scenes': scenes.length, 'crop.pixels': values.length });
  await store.putJson(resultKey(event.job_id, event.chunk_index), row);
  track('tile_processed', {
    job_id: event.job_id,
    tile_id: tileId,
    date,
    ndvi_mean: row.ndvi_mean ?? 0,
    ndvi_p10: row.ndvi_p10 ?? 0,
    ndvi_p90: row.ndvi_p90 ?? 0,
    n_pixels: row.n_pixels,
  });
  return row;
};

/**
 * The day's scenes from the catalog, read once per day while the sandbox stays warm (Lambda keeps module state
 * between invocations too): every chunk of a day would otherwise fetch and parse the same object.
 */
async function scenesOfDay(store: S3Store, date: string): Promise<Scene[]> {
  catalogCacheMs ??= etlConfig().catalogCacheMs;
  const cached = catalog.get(date);
  if (cached && cached.until > Date.now()) return cached.scenes;
  const scenes = (await store.getJson<Scene[]>(dayKey(date))) ?? [];
  catalog.delete(date);
  if (catalogCacheMs > 0) {
    catalog.set(date, { scenes, until: Date.now() + catalogCacheMs });
    // The oldest entry goes first (a Map iterates in insertion order).
    if (catalog.size > CATALOG_DAYS) catalog.delete(catalog.keys().next().value!);
  }
  return scenes;
}

/** NDVI of every pixel of a raster in the demo's format (see imagery/scenes.ts). */
export function ndvi(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixels = view.getUint16(4, true) * view.getUint16(6, true);
  const values: number[] = [];
  for (let i = 0; i < pixels; i++) {
    const red = bytes[9 + i]!;
    const nir = bytes[9 + pixels + i]!;
    values.push(red + nir === 0 ? 0 : (nir - red) / (nir + red));
  }
  return values;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
