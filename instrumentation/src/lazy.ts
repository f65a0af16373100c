/**
 * Loads a package when it is needed rather than when the preload starts: its ES build, synchronously (require of an
 * ES module), so that it shares the SDK modules the preload already loaded instead of bringing CommonJS copies.
 * The preload runs before the app, inside `--require`: it cannot await an `import()`.
 *
 * A bundle (the Lambda artifact, deploy/aws/etl/build.ts) has no node_modules to load from: it registers the
 * packages it holds under `BUNDLED_PACKAGES` before the preload runs, and those are used instead.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export const BUNDLED_PACKAGES = Symbol.for('observatory.bundledPackages');

type WithBundled = typeof globalThis & { [BUNDLED_PACKAGES]?: Record<string, unknown> };

export function loadPackage<T>(specifier: string): T {
  const bundled = (globalThis as WithBundled)[BUNDLED_PACKAGES]?.[specifier];
  if (bundled !== undefined) return bundled as T;
  return require(fileURLToPath(import.meta.resolve(specifier))) as T;
}
