/**
 * The imagery catalog's data, generated deterministically (nothing is downloaded): scenes of three satellites over a
 * grid of 5° tiles across Europe for June 2026, each with a small synthetic raster (red and near-infrared bands) that
 * the analytics jobs compute vegetation indices from. Seeding is idempotent: a marker object records the version.
 */
import { invalid } from '../common/http/errors.ts';
import type { S3Store } from '../common/s3-store.ts';

export interface Scene {
  id: string;
  satellite: string;
  captured_at: string;
  /** [west, south, east, north] in degrees. */
  bbox: [number, number, number, number];
  cloud_cover: number;
  size_bytes: number;
}

const SEED_VERSION = 1;
export const SATELLITES = [
  { code: 'S2A', name: 'sentinel-2a' },
  { code: 'S2B', name: 'sentinel-2b' },
  { code: 'L9', name: 'landsat-9' },
] as const;
const FIRST_DAY = '2026-06-01';
export const DAYS = 30;
/** Tiles: lon 0–25°E × lat 40–60°N in 5° steps. */
export const TILE_DEGREES = 5;
const GRID = { west: 0, south: 40, columns: 5, rows: 4 };
const RASTER_SIZE = 32;

export const dayKey = (day: string) => `catalog/scenes/dt=${day}.json`;
export const imageKey = (sceneId: string) => `images/${sceneId}.raster`;
const MARKER = 'catalog/seed.json';

export function tiles(): { index: number; bbox: Scene['bbox'] }[] {
  const all: { index: number; bbox: Scene['bbox'] }[] = [];
  for (let row = 0; row < GRID.rows; row++) {
    for (let column = 0; column < GRID.columns; column++) {
      const west = GRID.west + column * TILE_DEGREES;
      const south = GRID.south + row * TILE_DEGREES;
      all.push({
        index: row * GRID.columns + column,
        bbox: [west, south, west + TILE_DEGREES, south + TILE_DEGREES],
      });
    }
  }
  return all;
}

export function days(): string[] {
  const start = Date.parse(`${FIRST_DAY}T00:00:00Z`);
  return Array.from({ length: DAYS }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10));
}

/** The date a scene ID encodes (`S2A_20260601_T07` → 2026-06-01), or undefined for a malformed ID. */
export function sceneDay(id: string): string | undefined {
  const match = id.match(/^(S2A|S2B|L9)_(\d{4})(\d{2})(\d{2})_T(\d{2})$/);
  return match ? `${match[2]}-${match[3]}-${match[4]}` : undefined;
}

/** A small, seeded PRNG (mulberry32): the same seed gives the same catalog everywhere. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Scenes of one day: each satellite revisits a tile every few days. */
export function scenesOf(day: string, dayIndex: number): Scene[] {
  const scenes: Scene[] = [];
  SATELLITES.forEach((satellite, s) => {
    for (const tile of tiles()) {
      if ((tile.index + dayIndex * 2 + s * 3) % 5 !== 0) continue;
      const rand = random(dayIndex * 1000 + s * 100 + tile.index);
      const hour = 9 + Math.floor(rand() * 4);
      scenes.push({
        id: `${satellite.code}_${day.replaceAll('-', '')}_T${String(tile.index).padStart(2, '0')}`,
        satellite: satellite.name,
        captured_at: `${day}T${String(hour).padStart(2, '0')}:${String(Math.floor(rand() * 60)).padStart(2, '0')}:00Z`,
        bbox: tile.bbox,
        cloud_cover: Math.round(rand() * 1000) / 10,
        size_bytes: rasterBytes(RASTER_SIZE),
      });
    }
  });
  return scenes;
}

const rasterBytes = (size: number) => 9 + 2 * size * size;

/**
 * The raster format: "OBSR", width and height (uint16 LE), the band count (1 byte), then the red and the
 * near-infrared band, one byte per pixel. Vegetation grows through June and towards the south.
 */
export function raster(scene: Scene): Uint8Array {
  const size = RASTER_SIZE;
  const bytes = new Uint8Array(rasterBytes(size));
  bytes.set([0x4f, 0x42, 0x53, 0x52], 0);
  new DataView(bytes.buffer).setUint16(4, size, true);
  new DataView(bytes.buffer).setUint16(6, size, true);
  bytes[8] = 2;
  const day = Number(scene.captured_at.slice(8, 10));
  const greenness = 0.3 + 0.4 * (day / DAYS) + (60 - scene.bbox[3]) / 100;
  const rand = random(hash(scene.id));
  for (let i = 0; i < size * size; i++) {
    const vegetation = Math.min(1, Math.max(0, greenness + (rand() - 0.5) * 0.4));
    bytes[9 + i] = Math.round(40 + (1 - vegetation) * 80 + rand() * 20); // red
    bytes[9 + size * size + i] = Math.round(60 + vegetation * 160 + rand() * 20); // near-infrared
  }
  return bytes;
}

function hash(text: string): number {
  let h = 2166136261;
  for (const char of text) h = Math.imul(h ^ char.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** Writes the catalog and the images unless this seed version is there already. Returns the scene count. */
export async function seed(store: S3Store): Promise<{ scenes: number; written: boolean }> {
  const marker = await store.getJson<{ version: number; scenes: number }>(MARKER);
  if (marker?.version === SEED_VERSION) return { scenes: marker.scenes, written: false };
  let count = 0;
  const writes: (() => Promise<void>)[] = [];
  days().forEach((day, index) => {
    const scenes = scenesOf(day, index);
    count += scenes.length;
    writes.push(() => store.putJson(dayKey(day), scenes));
    for (const scene of scenes) writes.push(() => store.put(imageKey(scene.id), raster(scene)));
  });
  for (let i = 0; i < writes.length; i += 16)
    await Promise.all(writes.slice(i, i + 16).map((write) => write()));
  await store.putJson(MARKER, { version: SEED_VERSION, scenes: count });
  return { scenes: count, written: true };
}

/** An area as [west, south, east, north] in degrees. */
export type Bbox = [west: number, south: number, east: number, north: number];

/** Parses and checks an area (a string `w,s,e,n` or an array); the error names the field. */
export function bbox(value: unknown, field = 'bbox'): Bbox {
  const parts = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
  if (!parts || parts.length !== 4) throw invalid(field, 'expected four numbers: west,south,east,north');
  const numbers = parts.map((part) =>
    typeof part === 'number' ? part : typeof part === 'string' && part.trim() !== '' ? Number(part) : NaN,
  );
  if (numbers.some((n) => !Number.isFinite(n)))
    throw invalid(field, 'expected four numbers: west,south,east,north');
  const [west, south, east, north] = numbers as Bbox;
  if (west < -180 || east > 180) throw invalid(field, 'longitudes must be within [-180, 180]');
  if (south < -90 || north > 90) throw invalid(field, 'latitudes must be within [-90, 90]');
  if (west >= east) throw invalid(field, 'west must be less than east (an empty area)');
  if (south >= north) throw invalid(field, 'south must be less than north (an empty area)');
  return [west, south, east, north];
}

/** Whether two areas overlap (touching edges do not count). */
export function intersects(a: readonly number[], b: readonly number[]): boolean {
  return a[0]! < b[2]! && b[0]! < a[2]! && a[1]! < b[3]! && b[1]! < a[3]!;
}
