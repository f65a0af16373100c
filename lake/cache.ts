/**
 * Local copies of curated objects, because DuckDB reads s3:// only through httpfs, a run-time download that fails
 * offline. Each copy remembers the ETag of the object it was fetched from (a `.etag` file beside it): a copy is
 * fetched again only when the bucket's ETag differs, and copies whose object is gone are removed, so the cache
 * never shows rows the bucket no longer has. Downloads stream to disk: a large object never sits in memory.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { LakeConfig } from './config.ts';
import type { S3Store, StoredObject } from '../common/s3-store.ts';

/** Mirrors the Parquet objects under `prefix` into the cache; returns the local paths. */
export async function syncPrefix(store: S3Store, config: LakeConfig, prefix: string): Promise<string[]> {
  return (await syncSelected(store, config, prefix, () => true)).map(({ path }) => path);
}

/**
 * As syncPrefix, but only the objects `select` picks (by key) are fetched and returned, each with its key; the others
 * are neither fetched nor deleted from the cache (a copy is deleted only when its object is gone from the listing).
 * Given `listing` (the prefix listed earlier by the caller), it lists nothing and deletes nothing: it only fetches.
 */
export async function syncSelected(
  store: S3Store,
  config: LakeConfig,
  prefix: string,
  select: (key: string) => boolean,
  listing?: readonly StoredObject[],
): Promise<{ key: string; path: string }[]> {
  const listedAt = Date.now();
  const root = cachePath(config.cacheDir, prefix);
  if (root === undefined)
    throw new Error(`refused to mirror ${JSON.stringify(prefix)}: it resolves outside the lake cache`);
  const objects = (listing ?? (await store.list(prefix))).filter((o) => o.key.endsWith('.parquet'));
  const listed = new Set<string>();
  const selected: { key: string; path: string }[] = [];
  for (const object of objects) {
    const path = cachePath(config.cacheDir, object.key);
    // A key that would land outside the cache (a `..` segment, an absolute path) is not ours to copy.
    if (path === undefined || !path.startsWith(root)) continue;
    listed.add(path);
    if (!select(object.key)) continue;
    selected.push({ key: object.key, path });
    if ((await cachedEtag(path)) === object.etag && (await size(path)) === object.size) continue;
    await mkdir(dirname(path), { recursive: true });
    // Written aside and renamed: a concurrent reader never sees half a Parquet file.
    const partial = `${path}.${process.pid}.partial`;
    await download(store, object.key, partial);
    await rename(partial, path);
    await writeFile(`${path}.etag`, object.etag);
  }
  if (listing) return sorted(selected);
  for (const path of await localFiles(root)) {
    // A file newer than our listing was fetched by a concurrent sync that saw a newer object: not stale.
    if (!listed.has(path) && ((await stat(path).catch(() => undefined))?.mtimeMs ?? Infinity) < listedAt) {
      await rm(path, { force: true });
      await rm(`${path}.etag`, { force: true });
    }
  }
  return sorted(selected);
}

const sorted = (files: { key: string; path: string }[]) =>
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

/**
 * Where the object's copy lives: the key joined onto the cache folder, or undefined when that resolves outside it.
 * S3 keys are any text; `path.join` follows `..`, so a key is checked after resolving, never trusted as a path.
 */
export function cachePath(cacheDir: string, key: string): string | undefined {
  const root = resolve(cacheDir);
  const segments = key.split('/');
  const climbs = segments.some((s, i) => s === '.' || s === '..' || (s === '' && i < segments.length - 1));
  if (key === '' || key.startsWith('/') || /[\\\0]/.test(key) || climbs) return undefined;
  const path = resolve(root, key);
  return path.startsWith(`${root}${sep}`) ? path : undefined;
}

async function download(store: S3Store, key: string, path: string): Promise<void> {
  const response = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
  await pipeline(response.Body as Readable, createWriteStream(path));
}

async function cachedEtag(path: string): Promise<string | undefined> {
  try {
    return (await readFile(`${path}.etag`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function size(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

async function localFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true, recursive: true });
    return entries
      .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}
