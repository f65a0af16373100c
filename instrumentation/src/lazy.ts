/**
 * Loads a package when it is needed rather than when the preload starts: its ES build, synchronously (require of an
 * ES module), so that it shares the SDK modules the preload already loaded instead of bringing CommonJS copies.
 * The preload runs before the app, inside `--require`: it cannot await an `import()`.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export function loadPackage<T>(specifier: string): T {
  return require(fileURLToPath(import.meta.resolve(specifier))) as T;
}
