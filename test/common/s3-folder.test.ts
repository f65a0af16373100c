/**
 * `S3Store.listFolder` against the local stack's store: the objects directly in one folder, as S3 answers a listing
 * with the delimiter `/`. The local store walks the whole bucket for a listing without a delimiter (its cost then
 * follows everything the lake holds: the soak's runs 16 and 17), and answers NoSuchBucket for a folder that does not
 * exist; the store turns that into an empty folder, and still throws for a bucket that does not exist.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { S3Store } from '../../common/s3-store.ts';
import { s3Client, stackEndpoints } from '../support/backends.ts';

const base = `s3-folder/${randomUUID().slice(0, 8)}/`;
const store = () => new S3Store(s3Client(), stackEndpoints().s3.bucket);

describe('Listing one folder of the store', () => {
  it('answers the objects directly in the folder, in key order, from a name prefix and after a key', async () => {
    const keys = ['a_2.json', 'a_1.json', 'b_1.json', 'deeper/a_3.json', 'deeper/more/a_4.json'].map(
      (name) => `${base}folder/${name}`,
    );
    for (const key of keys) await store().put(key, '{}', 'application/json');
    const names = async (prefix: string, startAfter?: string) =>
      (await store().listFolder(prefix, { startAfter })).map((o) => o.key.slice(`${base}folder/`.length));

    expect(await names(`${base}folder/`)).toEqual(['a_1.json', 'a_2.json', 'b_1.json']);
    expect(await names(`${base}folder/a_`)).toEqual(['a_1.json', 'a_2.json']);
    expect(await names(`${base}folder/`, `${base}folder/a_1.json`)).toEqual(['a_2.json', 'b_1.json']);
    expect(await names(`${base}folder/deeper/`)).toEqual(['deeper/a_3.json']);
    // The same folder at any depth, for comparison: what `list` answers.
    expect((await store().list(`${base}folder/`)).map((o) => o.key).toSorted()).toEqual(keys.toSorted());
    // Sizes and entity tags as `list` gives them.
    const [first] = await store().listFolder(`${base}folder/a_1`);
    expect(first).toMatchObject({ key: `${base}folder/a_1.json`, size: 2 });
    expect(first!.etag).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers an empty folder for one that does not exist, and still throws for a bucket that does not', async () => {
    expect(await store().listFolder(`${base}nowhere/`)).toEqual([]);
    expect(await store().listFolder(`${base}nowhere/deeper/x_`)).toEqual([]);
    const elsewhere = new S3Store(s3Client(), `no-such-bucket-${randomUUID().slice(0, 8)}`);
    await expect(elsewhere.listFolder('raw/')).rejects.toThrow();
    await expect(elsewhere.list('raw/')).rejects.toThrow();
  });
});
