/**
 * The ETL worker's Lambda deployment artifact: one zip holding exactly what deploy/aws/etl/template.yaml points at.
 *
 *   node deploy/aws/etl/build.ts [--out dist/lambda]     (npm run build:lambda)
 *
 *   package.json                        {"type": "module"}: both bundles are ES modules
 *   etl/handlers/aws-sqs.js             the handler (Handler: etl/handlers/aws-sqs.handler), bundled by esbuild
 *   instrumentation/index.js            the preload (NODE_OPTIONS=--require ./instrumentation), bundled by esbuild
 *   lake/staging.js                     the compaction's staging worker thread, bundled by esbuild
 *   node_modules/…                      the packages the bundles load at run time, with their dependencies: what a
 *                                       bundle cannot hold (pino is loaded through `require` so that its
 *                                       instrumentation can patch it; import-in-the-middle's hooks import
 *                                       their own files; DuckDB's bindings load a native library)
 *   deploy/aws/etl/lambda-collector.yaml  the Collector layer's config (OPENTELEMETRY_COLLECTOR_CONFIG_URI)
 *
 * Node built-ins stay imports, so the preload's hooks still patch http/https (the AWS SDK's requests) in the bundle.
 * Everything else the code imports, TypeScript included, is bundled; whatever the preload imports is followed, so
 * the build keeps working when the preload changes. The zip is written deterministically (sorted entries, fixed
 * times): the same sources give the same bytes.
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { zipSync, type Zippable } from 'fflate';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../../common/paths.ts';
import {
  BUNDLED_PACKAGES,
  instrumentationPackage,
  otlpExporterPackages,
} from '../../../instrumentation/lazy-packages.ts';

/**
 * Packages loaded at run time rather than bundled (see the header), each shipped with its dependency closure. DuckDB's
 * bindings load a native library (the compaction handler's engine), which no bundle can hold: they ship with the
 * platform package npm installed here, linux-x64 with glibc, which is the template's x86_64 Lambda runtime.
 */
export const RUNTIME_PACKAGES = ['pino', 'import-in-the-middle', '@duckdb/node-bindings'];

/**
 * Packages the preload loads by name when its configuration chooses them (instrumentation/lazy-packages.ts), bundled
 * into the preload and registered before it runs: the OTLP exporters over HTTP (the Collector layer listens on 4318;
 * gRPC is not bundled) and the instrumentations a worker can use.
 */
export const PRELOAD_PACKAGES = [
  ...otlpExporterPackages(['proto', 'http']),
  ...['http', 'undici', 'runtime-node', 'pino', 'aws-sdk'].map(instrumentationPackage),
];

/** The preload's entry in the bundle: the lazily loaded packages registered first, then the preload itself. */
const preloadEntry: Plugin = {
  name: 'preload-entry',
  setup(build) {
    build.onResolve({ filter: /^observatory:bundled-packages$/ }, () => ({
      path: 'bundled-packages',
      namespace: 'observatory',
    }));
    build.onLoad({ filter: /.*/, namespace: 'observatory' }, () => ({
      resolveDir: REPO_ROOT,
      loader: 'js',
      contents: [
        ...PRELOAD_PACKAGES.map((name, i) => `import * as p${i} from '${name}';`),
        `globalThis[Symbol.for(${JSON.stringify(BUNDLED_PACKAGES.description)})] = {`,
        ...PRELOAD_PACKAGES.map((name, i) => `  '${name}': p${i},`),
        `};`,
      ].join('\n'),
    }));
  },
};

/** Where the template's CodeUri points, relative to the repository. */
export const ARTIFACT_PATH = join('dist', 'lambda', 'etl-worker.zip');

/**
 * Lambda's limits are 50 MB zipped (uploaded directly) and 250 MB unzipped. DuckDB's native library, which the
 * compaction handler needs, is ≈ 23 MB of the zip (≈ 70 MB unzipped), the rest ≈ 1 MB: we hold ourselves to 30 MB.
 */
export const SIZE_BUDGET_BYTES = 30 * 1024 * 1024;

export interface LambdaArtifact {
  zipPath: string;
  zippedBytes: number;
  unzippedBytes: number;
  /** Every file in the zip, sorted. */
  files: string[];
}

const FIXED_TIME = new Date('2020-01-01T00:00:00Z');

/**
 * Some packages ship ES modules that load their CommonJS dependencies through a `require` made by
 * `createRequire(import.meta.url)` — declared in the file, or imported as `__require` from a bundler's runtime
 * module (rolldown, tsdown) — e.g. `__require("forwarded-parse")`. A bundler cannot see those calls: they would run
 * in the Lambda sandbox and find nothing. In dependencies only, such calls with a literal name become plain
 * `require("…")`, which esbuild follows and bundles.
 */
const visibleRequires: Plugin = {
  name: 'visible-requires',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.(mjs|js)$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const names = new Set<string>();
      for (const m of text.matchAll(
        /(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:[\w$]+\.)?createRequire\(import\.meta\.url\)/g,
      ))
        names.add(m[1]!);
      if (/import\s*\{[^}]*\b__require\b[^}]*\}\s*from/.test(text)) names.add('__require');
      if (names.size === 0) return undefined;
      let contents = text;
      for (const name of names) {
        const call = new RegExp(`(?<![\\w$.])${name.replace(/\$/g, '\\$')}\\((?=\\s*["'])`, 'g');
        contents = contents.replace(call, 'require(');
      }
      return contents === text ? undefined : { contents, loader: 'js' };
    });
  },
};

const COMMON: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The template's runtime (nodejs22.x).
  target: 'node22',
  legalComments: 'none',
  minify: true,
  sourcemap: false,
  write: false,
  logLevel: 'silent',
  external: RUNTIME_PACKAGES,
  plugins: [visibleRequires],
  // A bundle that meets a CommonJS module calling require() needs a real require in ES module scope.
  banner: {
    js: "import { createRequire as __observatoryCreateRequire } from 'node:module'; const require = __observatoryCreateRequire(import.meta.url);",
  },
};

/**
 * The compaction's staging worker thread loads its own module (lake/staging.ts), which the handler's bundle inlines:
 * it ships as a bundle of its own, and the handler's bundle tells the lake where (a URL under a global symbol).
 */
const STAGING_ENTRY = 'lake/staging.ts';

/** How each entry is bundled: the handler and the preload through a small generated entry, the rest as they are. */
function entryOptions(entry: string): BuildOptions {
  if (entry === 'instrumentation/index.js') {
    return {
      // ES modules run their imports in order: the registry exists before the preload starts.
      stdin: {
        contents: `import 'observatory:bundled-packages';\nexport * from './${entry}';\n`,
        resolveDir: REPO_ROOT,
        loader: 'js',
      },
      plugins: [...COMMON.plugins!, preloadEntry],
    };
  }
  if (entry === 'etl/handlers/aws-sqs.ts') {
    return {
      stdin: {
        contents: [
          `globalThis[Symbol.for('observatory.lake.stagingWorkerUrl')] = new URL('../../lake/staging.js', import.meta.url).href;`,
          `export * from './${entry}';`,
        ].join('\n'),
        resolveDir: REPO_ROOT,
        loader: 'ts',
      },
    };
  }
  return { entryPoints: [join(REPO_ROOT, entry)] };
}

export async function buildLambdaArtifact(
  outDir = join(REPO_ROOT, dirname(ARTIFACT_PATH)),
): Promise<LambdaArtifact> {
  const files: Zippable = {};
  const add = (path: string, data: Uint8Array) => (files[path] = [data, { mtime: FIXED_TIME }]);
  const bundles: [string, string][] = [
    ['etl/handlers/aws-sqs.ts', 'etl/handlers/aws-sqs.js'],
    ['instrumentation/index.js', 'instrumentation/index.js'],
    [STAGING_ENTRY, 'lake/staging.js'],
  ];
  for (const [entry, out] of bundles) {
    const result = await build({ ...COMMON, outfile: out, ...entryOptions(entry) });
    if (result.errors.length)
      throw new Error(`esbuild ${entry}: ${result.errors.map((e) => e.text).join('; ')}`);
    add(out, result.outputFiles![0]!.contents);
  }
  const project = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  add(
    'package.json',
    Buffer.from(
      `${JSON.stringify({ name: 'observatory-etl-worker', version: project.version, private: true, type: 'module' }, null, 2)}\n`,
    ),
  );
  for (const dir of dependencyClosure(RUNTIME_PACKAGES)) {
    for (const file of walk(dir)) add(relative(REPO_ROOT, file).split(sep).join('/'), readFileSync(file));
  }
  const collectorConfig = 'deploy/aws/etl/lambda-collector.yaml';
  add(collectorConfig, readFileSync(join(REPO_ROOT, collectorConfig)));

  const sorted: Zippable = Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
  const zipped = zipSync(sorted, { level: 9 });
  mkdirSync(outDir, { recursive: true });
  const zipPath = join(outDir, 'etl-worker.zip');
  writeFileSync(zipPath, zipped);
  return {
    zipPath,
    zippedBytes: zipped.byteLength,
    unzippedBytes: Object.values(files).reduce(
      (n, entry) => n + (entry as [Uint8Array, unknown])[0].byteLength,
      0,
    ),
    files: Object.keys(sorted),
  };
}

/** One entry point bundled as an ES module for the template's runtime. */
export async function bundle(entry: string, outfile: string): Promise<Uint8Array> {
  const result = await build({ ...COMMON, entryPoints: [entry], outfile });
  if (result.errors.length)
    throw new Error(`esbuild ${entry}: ${result.errors.map((e) => e.text).join('; ')}`);
  return result.outputFiles![0]!.contents;
}

/**
 * The folders of `names` and of everything they depend on at run time (dependencies and optional dependencies
 * that are installed), resolved as Node resolves them from each requiring package, so nested versions keep their
 * place under node_modules.
 */
export function dependencyClosure(names: string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    const dir = packageDir(name, from);
    if (!dir || seen.has(dir)) return;
    seen.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }))
      visit(dep, dir);
  };
  for (const name of names) {
    if (!packageDir(name, REPO_ROOT)) throw new Error(`${name} is not installed: run npm ci`);
    visit(name, REPO_ROOT);
  }
  return [...seen].sort();
}

/** The installed folder of package `name` as seen from folder `from` (undefined for an absent optional one). */
function packageDir(name: string, from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Every file under `dir`, leaving out nested node_modules (their packages are in the closure in their own right). */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...walk(path));
    } else if (entry.isFile() || (entry.isSymbolicLink() && statSync(path).isFile())) out.push(path);
  }
  return out;
}

// Run as a script: build and print what was made.
if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const artifact = await buildLambdaArtifact(values.out ? resolve(values.out) : undefined);
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
  process.stdout.write(
    `${relative(process.cwd(), artifact.zipPath)}: ${mb(artifact.zippedBytes)} MB zipped ` +
      `(${mb(artifact.unzippedBytes)} MB unzipped, ${artifact.files.length} files; budget ${mb(SIZE_BUDGET_BYTES)} MB)\n`,
  );
  if (artifact.zippedBytes > SIZE_BUDGET_BYTES) process.exitCode = 1;
}
