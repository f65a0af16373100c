/**
 * What one listing costs the local S3 store as its bucket fills. The same window of one hour folder (100 of its 500
 * objects, as planning asks for a 66-second window) is listed with the delimiter `/` (`S3Store.listFolder`: what
 * planning, the compaction and trace lookups send) and without (`S3Store.list`), side by side, while the rest of the
 * bucket grows step by step. The local store (gofakes3's file-system backend) walks the whole bucket for a listing
 * without a delimiter, so its cost follows everything the lake has stored (the soak's runs 16 and 17); with one it
 * reads that folder alone. Reports each step's medians and the folder listing's cost at the last step over the first
 * (target ≤ 2: it does not follow the bucket). On AWS both are one indexed request. Objects go under
 * `bench/listing/<run>/` and are removed at the end. Needs the stack (`npx observatory stack up`).
 *
 *   npm run bench -- s3-listing [--folder 500] [--steps 0,5000,20000] [--rounds 20]
 */
import { parseArgs } from 'node:util';
import { S3Store } from '../common/s3-store.ts';
import { uuidv7 } from '../tracker/uuidv7.ts';
import { removeUnder } from './lake.ts';
import { failedFigure, printFigures, type Figure } from './report.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      folder: { type: 'string', default: '500' },
      steps: { type: 'string', default: '0,5000,20000' },
      rounds: { type: 'string', default: '20' },
    },
  });
  const folderSize = Number(values.folder);
  const steps = values.steps.split(',').map(Number);
  const rounds = Number(values.rounds);
  if (!(folderSize >= 100) || steps.some((n) => !(n >= 0)) || !(rounds >= 1))
    throw new Error('--folder must be at least 100, --steps counts of objects, --rounds at least 1');
  const store = S3Store.fromSettings();
  const base = `bench/listing/${uuidv7()}/`;
  const figures: Figure[] = [];
  try {
    figures.push(...(await measure(store, base, folderSize, steps, rounds)));
  } catch (error) {
    figures.push(failedFigure('s3-listing', 'One folder window listed as the local S3 store fills', error));
  } finally {
    await removeUnder(store, base);
  }
  printFigures(figures);
  return figures;
}

async function measure(
  store: S3Store,
  base: string,
  folderSize: number,
  steps: number[],
  rounds: number,
): Promise<Figure[]> {
  // One hour folder, named as the Collector names uploads; the window is its first 100 names' common prefix.
  const folder = `${base}raw/logs/year=2026/month=01/day=01/hour=00/`;
  await putMany(
    store,
    folderSize,
    (i) => `${folder}logs_w${String(Math.floor(i / 100)).padStart(3, '0')}-${i}.json`,
  );
  const window = `${folder}logs_w000-`;
  let others = 0;
  const rows: { bucket: number; folder: number; walk: number }[] = [];
  for (const step of steps) {
    await putMany(
      store,
      step - others,
      (i) => `${base}other/f${Math.floor((others + i) / 2500)}/o${others + i}.json`,
    );
    others = Math.max(others, step);
    // Side by side, alternating round by round, so a busy second hits both.
    const ms = { folder: [] as number[], walk: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      for (const [kind, list] of [
        ['folder', () => store.listFolder(window)],
        ['walk', () => store.list(window)],
      ] as const) {
        const started = performance.now();
        const listed = await list();
        ms[kind].push(performance.now() - started);
        if (listed.length !== 100) throw new Error(`the window listed ${listed.length} objects, not 100`);
      }
    }
    const [withDelimiter, without] = [median(ms.folder), median(ms.walk)];
    rows.push({ bucket: folderSize + others, folder: withDelimiter, walk: without });
    console.log(
      `  bucket +${(folderSize + others).toLocaleString('en-US')} objects: one window listed as a folder ` +
        `${withDelimiter.toFixed(1)} ms, without a delimiter ${without.toFixed(1)} ms (medians of ${rounds})`,
    );
  }
  const first = rows[0]!;
  const last = rows.at(-1)!;
  return [
    {
      id: 's3-listing.folder',
      figure: `One 100-object window of a ${folderSize}-object folder, listed as a folder, with ${last.bucket} objects in the bucket`,
      ours: last.folder,
      baseline: first.folder,
      baselineName: `with ${first.bucket} objects`,
      unit: 'ms',
      target: 2,
      targetIsRatio: true,
      better: 'lower',
    },
    {
      id: 's3-listing.walk',
      figure: `The same window without a delimiter (the bucket walked), with ${last.bucket} objects in the bucket`,
      ours: last.walk,
      baseline: first.walk,
      baselineName: `with ${first.bucket} objects`,
      unit: 'ms',
      better: 'lower',
    },
  ];
}

/** Puts `count` small objects, fifty at a time. */
async function putMany(store: S3Store, count: number, key: (i: number) => string): Promise<void> {
  for (let i = 0; i < count; i += 50)
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, j) =>
        store.put(key(i + j), '{}', 'application/json'),
      ),
    );
}

if (import.meta.main) await cli();
