/**
 * Our TypeScript as plain JavaScript, for the processes and threads whose memory counts: Node runs a `.ts` file by
 * stripping its types with a WebAssembly build of swc (amaro), loaded into every process or worker thread that meets
 * its first `.ts` file and kept for its life — ≈ 18 MiB of resident memory per isolate, a seventh of the 128 MB the
 * ETL's Lambda is sized for (docs/performance.md, issue 24). The Lambda artifact is built (deploy/aws/etl/build.ts);
 * a local sandbox runs the same code built here.
 *
 * esbuild bundles our own modules, split into shared chunks so that entries built together share one copy of each
 * module (one `instrumentation/src/sdk.ts` for the preload and the worker) and a dynamic `import()` stays a chunk of
 * its own, loaded when it runs. Packages stay imports, resolved from the repository's node_modules as before (the
 * instrumentations patch them as they load), except those listed in `inline`: pure constants, of which the bundle keeps
 * only the few used. The build goes to `.observatory/js-build/<hash of the output>/`, written once, and is made once
 * per process; each module keeps its own `import.meta.url`, so what it resolves from there (the repository's root,
 * its own files) does not move. Without esbuild (a production install: it is a dev dependency) it says so and the caller runs the
 * TypeScript.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { usingEsbuild } from './esbuild.ts';
import { REPO_ROOT, STATE_ROOT } from './paths.ts';

export interface JsBuildOptions {
  /** Output name (without `.mjs`) → repository-relative source, or `{ contents }` for a generated entry. */
  entries: Record<string, string | { contents: string }>;
  /** Packages bundled (tree-shaken) rather than imported. */
  inline?: readonly string[];
}

/** Output name → absolute path of the built `.mjs`, or undefined when esbuild is not installed. */
export type JsBuild = Record<string, string> | undefined;

const BUILD_ROOT = join(STATE_ROOT, 'js-build');
const made = new Map<string, Promise<JsBuild>>();

/** The build of `options`, made once per process (concurrent callers share it). */
export function jsBuild(options: JsBuildOptions): Promise<JsBuild> {
  const key = JSON.stringify(options);
  let build = made.get(key);
  if (!build) {
    build = makeBuild(options);
    made.set(key, build);
    build.catch(() => made.delete(key));
  }
  return build;
}

async function makeBuild({ entries, inline = [] }: JsBuildOptions): Promise<JsBuild> {
  try {
    await import('esbuild');
  } catch {
    return undefined;
  }
  return usingEsbuild((esbuild) => bundle(esbuild, { entries, inline }));
}

/** Bundles the entries and writes them once; the path of each built entry. */
async function bundle(
  esbuild: typeof import('esbuild'),
  { entries, inline = [] }: JsBuildOptions,
): Promise<Record<string, string>> {
  const virtual = 'observatory-entry';
  const entryPoints = Object.fromEntries(
    Object.entries(entries).map(([name, source]) => [
      name,
      typeof source === 'string' ? join(REPO_ROOT, source) : `${virtual}:${name}`,
    ]),
  );
  const result = await esbuild.build({
    entryPoints,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    outdir: BUILD_ROOT,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'packages-stay-imports',
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, (args) => {
            if (args.path.startsWith(`${virtual}:`)) return { path: args.path, namespace: virtual };
            const inlined = inline.some((name) => args.path === name || args.path.startsWith(`${name}/`));
            return inlined ? undefined : { path: args.path, external: true };
          });
          // A module keeps its own URL: paths resolved from it (common/paths.ts's REPO_ROOT) stay those of the sources.
          // The expression is replaced, not the text: a module may write `import.meta.url` inside a string, as
          // sandbox-build.ts does in the entry it generates, which must keep meaning the built entry's own URL.
          build.onLoad({ filter: /\.(ts|js|mjs)$/ }, async (args) => {
            if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
            const text = readFileSync(args.path, 'utf8');
            if (!text.includes('import.meta.url')) return undefined;
            const { code } = await esbuild.transform(text, {
              loader: args.path.endsWith('.ts') ? 'ts' : 'js',
              format: 'esm',
              sourcefile: args.path,
              define: { 'import.meta.url': JSON.stringify(pathToFileURL(args.path).href) },
              tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
            });
            return { contents: code, loader: 'js' };
          });
          build.onLoad({ filter: /.*/, namespace: virtual }, (args) => {
            const source = entries[args.path.slice(virtual.length + 1)] as { contents: string };
            return { contents: source.contents, resolveDir: REPO_ROOT, loader: 'ts' };
          });
        },
      },
    ],
  });
  const hash = createHash('sha256');
  for (const file of result.outputFiles) hash.update(relative(BUILD_ROOT, file.path)).update(file.contents);
  const dir = join(BUILD_ROOT, hash.digest('hex').slice(0, 16));
  if (!existsSync(dir)) writeOnce(dir, result.outputFiles);
  return Object.fromEntries(Object.keys(entries).map((name) => [name, join(dir, `${name}.mjs`)]));
}

/** Writes the files beside `dir` and renames the folder into place: a concurrent builder never sees half of it. */
function writeOnce(dir: string, files: { path: string; contents: Uint8Array }[]): void {
  const staging = `${dir}.${process.pid}.tmp`;
  mkdirSync(staging, { recursive: true });
  for (const file of files) writeFileSync(join(staging, relative(BUILD_ROOT, file.path)), file.contents);
  try {
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another process wrote the same build first: the same bytes.
    if (!existsSync(dir)) throw error;
  }
}

const warned = new Set<string>();

/**
 * The build of `options`, or undefined when there is none (esbuild not installed) or it failed — said once per `who`
 * on stderr (`observatory: <who> run the TypeScript sources: …`), so the caller runs the sources. Never rejects.
 */
export async function jsBuildOrSources(options: JsBuildOptions, who: string): Promise<JsBuild> {
  try {
    return await jsBuild(options);
  } catch (error) {
    if (!warned.has(who)) {
      warned.add(who);
      process.stderr.write(
        `observatory: ${who} run the TypeScript sources: their build failed (${error instanceof Error ? error.message : String(error)})\n`,
      );
    }
    return undefined;
  }
}
