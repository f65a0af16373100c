/**
 * Local copies of curated objects, because DuckDB reads s3:// only through httpfs, a run-time download that fails
 * offline. Curated objects are immutable (`part-<uuid>`), so a file present locally is current; files whose object
 * is gone are removed, so the cache never shows rows the bucket no longer has.
 */
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LakeConfig } from './config.ts';
import type { S3Store } from '../common/s3-store.ts';

/** Mirrors the Parquet objects under `prefix` into the cache; returns the local paths. */
export async function syncPrefix(store: S3Store, config: LakeConfig, prefix: string): Promise<string[]> {
  const listedAt = Date.now();
  const objects = (await store.list(prefix)).filter((o) => o.key.endsWith('.parquet'));
  const wanted = new Set<string>();
  const paths: string[] = [];
  for (const object of objects) {
    const path = join(config.cacheDir, object.key);
    wanted.add(path);
    paths.push(path);
    if ((await size(path)) === object.size) continue;
    await mkdir(dirname(path), { recursive: true });
    // Written aside and renamed: a concurrent reader never sees half a Parquet file.
    const partial = `${path}.${process.pid}.partial`;
    await writeFile(partial, await store.get(object.key));
    await rename(partial, path);
  }
  for (const path of await localFiles(join(config.cacheDir, prefix))) {
    // A file newer than our listing was fetched by a concurrent sync that saw a newer object: not stale.
    if (!wanted.has(path) && ((await stat(path).catch(() => undefined))?.mtimeMs ?? Infinity) < listedAt) {
      await rm(path, { force: true });
    }
  }
  return paths.sort();
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
