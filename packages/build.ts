/**
 * Builds the installable packages a team adds to its own services: `@observatory/instrumentation` (the preload, its
 * ESM register entry and the API) and `@observatory/tracker` (the Tracker for a team's own event registry).
 * tsc compiles them to JavaScript with declarations (packages/tsconfig.json); each package gets only the files its
 * entries reach, its dependencies pinned to the versions this repository uses, and is packed with `npm pack` into
 * packages/dist/ (git-ignored). Run: `npm run build:packages`; prints the tarball paths (`--json`: as JSON).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { transformSync } from 'esbuild';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../common/paths.ts';
import { lazyPackages } from '../instrumentation/lazy-packages.ts';

const OUT = join(REPO_ROOT, 'packages', 'dist');
const BUILD = join(OUT, 'build');

interface PackageSpec {
  name: string;
  dir: string;
  description: string;
  /** Export subpath → compiled entry (relative to the build root). */
  entries: Record<string, { file: string; types: string; require: boolean }>;
  /** Import specifiers rewritten in the compiled files: a sibling package instead of a relative path. */
  rewrites?: Record<string, string>;
  peers?: Record<string, string>;
  /** Packages loaded lazily (by a computed name, so the import scan cannot see them). */
  lazy?: string[];
  /**
   * Ship the `.js` files as CommonJS (`.mjs` entries stay ES modules): they then load the CommonJS builds of the
   * OpenTelemetry packages, whose ES builds cost ≈ 5 MiB more of an idle process (docs/performance.md, issue 24).
   */
  commonjs?: boolean;
}

const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  dependencies: Record<string, string>;
};

const PACKAGES: PackageSpec[] = [
  {
    name: '@observatory/instrumentation',
    dir: 'instrumentation',
    description:
      'One preload for traces, metrics and logs over OTLP: the OpenTelemetry SDK with curated auto-instrumentations, the traceresponse header and a correlated pino logger.',
    entries: {
      '.': { file: 'instrumentation/index.js', types: 'instrumentation/index.d.ts', require: true },
      './register': {
        file: 'instrumentation/register.mjs',
        types: 'instrumentation/register.d.mts',
        require: false,
      },
      './api': { file: 'instrumentation/api.js', types: 'instrumentation/api.d.ts', require: true },
    },
    // The preload loads these when the configuration chooses them; the library instrumentations come with
    // auto-instrumentations-node.
    lazy: lazyPackages(),
    commonjs: true,
  },
  {
    name: '@observatory/tracker',
    dir: 'tracker',
    description:
      "Typed business events as OpenTelemetry log records, from a team's own versioned event schemas: validation, rejected rows, enrichment.",
    entries: { '.': { file: 'tracker/index.js', types: 'tracker/index.d.ts', require: true } },
    rewrites: { '../instrumentation/api.js': '@observatory/instrumentation/api' },
    peers: { '@observatory/instrumentation': root.version },
  },
];

function compile(): void {
  rmSync(OUT, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(REPO_ROOT, 'packages', 'tsconfig.json')], {
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('tsc failed to compile the packages (see above)');
}

const SPECIFIERS = /(?:from\s*|import\s*\(\s*|require(?:\.resolve)?\(\s*|import\s+)['"]([^'"]+)['"]/g;

/** The compiled files reachable from the entries (relative imports followed), and the bare packages they import. */
function reach(spec: PackageSpec): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = Object.values(spec.entries).map((entry) => join(BUILD, entry.file));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    if (!existsSync(file)) throw new Error(`${relative(REPO_ROOT, file)} is imported but was not compiled`);
    files.add(file);
    const declaration = file.replace(/\.(m?)js$/, '.d.$1ts');
    if (existsSync(declaration)) files.add(declaration);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIERS)) {
      if (spec.rewrites?.[specifier!])
        packages.add(spec.rewrites[specifier!]!.split('/').slice(0, 2).join('/'));
      else if (specifier!.startsWith('.')) queue.push(resolve(dirname(file), specifier!));
      else if (!specifier!.startsWith('node:')) packages.add(packageName(specifier!));
    }
  }
  return { files, packages };
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function assemble(spec: PackageSpec): string {
  const { files, packages } = reach(spec);
  const dir = join(OUT, spec.dir);
  for (const file of files) {
    const target = join(dir, relative(BUILD, file));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(file, target);
    const text = rewrite(readFileSync(target, 'utf8'), spec);
    writeFileSync(
      target,
      spec.commonjs && file.endsWith('.js') && !file.endsWith('.d.js') ? toCommonJs(text, file) : text,
    );
  }
  const dependencies: Record<string, string> = {};
  for (const name of [...new Set([...packages, ...(spec.lazy ?? [])])].sort()) {
    if (spec.peers?.[name]) continue;
    const version = root.dependencies[name];
    if (!version)
      throw new Error(`${spec.name} imports ${name}, which is not a dependency of this repository`);
    dependencies[name] = version;
  }
  const manifest = {
    name: spec.name,
    version: root.version,
    description: spec.description,
    license: root.license,
    type: spec.commonjs ? 'commonjs' : 'module',
    // The NodeSDK 0.30x and the auto-instrumentations require 22.15 (and require(esm), used by the ES module hook, 22.12).
    engines: { node: '>=22.15' },
    main: `./${spec.entries['.']!.file}`,
    types: `./${spec.entries['.']!.types}`,
    exports: Object.fromEntries([
      ...Object.entries(spec.entries).map(([subpath, entry]) => [
        subpath,
        entry.require
          ? { types: `./${entry.types}`, require: `./${entry.file}`, import: `./${entry.file}` }
          : { types: `./${entry.types}`, import: `./${entry.file}` },
      ]),
      ['./package.json', './package.json'],
    ]),
    dependencies,
    ...(spec.peers ? { peerDependencies: spec.peers } : {}),
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(
    join(dir, 'README.md'),
    `# ${spec.name}\n\n${spec.description}\n\nBuilt from the Observatory repository; see its docs/instrumentation.md.\n`,
  );
  return pack(dir);
}

/** Declarations keep `.ts` extensions where tsc copied them from JavaScript sources; point them at the .js files. */
function rewrite(text: string, spec: PackageSpec): string {
  let out = text.replace(/(['"])(\.{1,2}\/[^'"]+)\.ts\1/g, '$1$2.js$1');
  for (const [from, to] of Object.entries(spec.rewrites ?? {}))
    out = out.replaceAll(`'${from}'`, `'${to}'`).replaceAll(`"${from}"`, `"${to}"`);
  return out;
}

/**
 * One compiled ES module as CommonJS (esbuild, one file at a time: every module stays a file of its own, so the
 * preload and the API share one instance of each). `import.meta` has no CommonJS form: its `url` becomes the file's
 * URL and its `resolve` resolves as `require` does, so that what a module loads by name is the package's CommonJS
 * build too.
 */
function toCommonJs(text: string, file: string): string {
  const usesMeta = text.includes('import.meta');
  return transformSync(text, {
    format: 'cjs',
    platform: 'node',
    target: 'node22',
    sourcefile: relative(BUILD, file),
    ...(usesMeta
      ? {
          define: { 'import.meta.url': '__importMetaUrl', 'import.meta.resolve': '__importMetaResolve' },
          banner:
            "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;\n" +
            "const __importMetaResolve = (specifier) => require('node:url').pathToFileURL(require.resolve(specifier)).href;",
        }
      : {}),
  }).code;
}

function pack(dir: string): string {
  const result = spawnSync('npm', ['pack', '--silent', '--pack-destination', OUT], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`npm pack failed in ${dir}: ${result.stderr}`);
  return join(OUT, result.stdout.trim().split('\n').pop()!);
}

export function buildPackages(): Record<string, string> {
  compile();
  return Object.fromEntries(PACKAGES.map((spec) => [spec.name, assemble(spec)]));
}

if (import.meta.main) {
  const tarballs = buildPackages();
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(tarballs, null, 2)}\n`);
  else for (const [name, path] of Object.entries(tarballs)) process.stdout.write(`${name}: ${path}\n`);
}
