/**
 * Bundles the console's front end (ui/, browser TypeScript and CSS, uPlot from npm) with esbuild into ui/dist/.
 * Rebuilds only when a source, the lock file or this file is newer than the bundle, so `scripts/setup.sh` and
 * `observatory ui` can both call it. Run directly: `node console/build.ts [--force]`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usingEsbuild } from '../common/esbuild.ts';
import { REPO_ROOT } from '../common/paths.ts';

const ENTRY = 'main.ts';
const OUTPUTS = ['main.js', 'main.css'];

function newestMtime(dir: string, skip: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (path === skip) continue;
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path, skip) : statSync(path).mtimeMs);
  }
  return newest;
}

/** True when the bundle is missing or older than what it is built from. */
export function uiBuildIsStale(sourceDir: string, assetsDir: string): boolean {
  const outputs = OUTPUTS.map((name) => join(assetsDir, name));
  if (!outputs.every((path) => existsSync(path))) return true;
  const built = Math.min(...outputs.map((path) => statSync(path).mtimeMs));
  const inputs = Math.max(
    newestMtime(sourceDir, assetsDir),
    statSync(join(REPO_ROOT, 'package-lock.json')).mtimeMs,
    statSync(fileURLToPath(import.meta.url)).mtimeMs,
    // The trace page renders the `observatory trace --json` document: its types are part of the bundle.
    statSync(join(REPO_ROOT, 'trace', 'types.ts')).mtimeMs,
  );
  return inputs > built;
}

/** Builds the bundle when stale (or when forced); returns whether it built. */
export async function buildUi(
  sourceDir = join(REPO_ROOT, 'ui'),
  assetsDir = join(sourceDir, 'dist'),
  force = false,
): Promise<boolean> {
  if (!force && !uiBuildIsStale(sourceDir, assetsDir)) return false;
  // Loaded only when a build is due: the CLI's other commands never pay for it.
  await usingEsbuild(({ build }) =>
    build({
      entryPoints: [join(sourceDir, ENTRY)],
      outdir: assetsDir,
      bundle: true,
      format: 'esm',
      target: ['chrome120', 'firefox120', 'safari17'],
      minify: true,
      sourcemap: 'linked',
      logLevel: 'warning',
      // Everything is bundled: no CDN, no remote fonts; the console works offline.
      external: [],
    }),
  );
  return true;
}

if (import.meta.main) {
  const built = await buildUi(undefined, undefined, process.argv.includes('--force'));
  process.stderr.write(built ? 'ui: front end built into ui/dist/\n' : 'ui: front end up to date\n');
}
