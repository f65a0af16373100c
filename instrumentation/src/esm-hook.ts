/**
 * The ES module hook (import-in-the-middle), in-thread, loaded when the process first loads an ES module.
 *
 * import-in-the-middle's hook brings acorn, cjs-module-lexer and the ES namespaces of Node's `module`, `util` and
 * `url`, whose every export is read: 51 more internal modules and ≈ 9 MiB of an idle process (docs/performance.md,
 * issue 24). A CommonJS app that never imports an ES module has no use for it. So a pass-through hook is registered
 * at start instead (module.registerHooks: it sees `import` and `require` alike), and the first resolution of an
 * ES module — an `import` or `import()` of anything, or a `require` that resolves to an ES module — loads the real
 * hook, which then resolves that very module and every one after it: nothing an ES module loads escapes it. What it
 * wraps (`include`) is read at that moment, so a library instrumentation created since start is included.
 */
import Module, { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

type ResolveHook = NonNullable<Parameters<typeof Module.registerHooks>[0]['resolve']>;
type LoadHook = NonNullable<Parameters<typeof Module.registerHooks>[0]['load']>;

/** What import-in-the-middle's `createHook` returns (create-hook.mjs has no type declarations). */
interface ImportInTheMiddleHook {
  resolveSync: ResolveHook;
  loadSync: LoadHook;
  applyOptions(options: { include: (string | RegExp)[] }): void;
}

const require = createRequire(import.meta.url);

/**
 * Whether Node has in-thread hooks that import-in-the-middle can use (>= 24.11.1, >= 22.22.3): its own import-free
 * check, made for preloads that decide whether to load the hook at all.
 */
export const supportsSyncHooks = (
  require('import-in-the-middle/supports-sync-hooks.mjs') as { supportsSyncHooks(): boolean }
).supportsSyncHooks;

/**
 * Registers the hook; false where Node has no in-thread hooks that import-in-the-middle can use (then
 * `--import …/register.mjs` registers its off-thread loader). `include` names what to wrap.
 */
export function registerEsmHook(include: () => (string | RegExp)[]): boolean {
  if (!supportsSyncHooks()) return false;
  let hook: ImportInTheMiddleHook | undefined;
  let loading = false;
  let failed = false;
  const load = (): ImportInTheMiddleHook | undefined => {
    loading = true;
    try {
      // The same hook as import-in-the-middle's register-hooks.mjs builds: created with that module's URL, which
      // it uses to tell its own imports apart.
      const url = pathToFileURL(require.resolve('import-in-the-middle/register-hooks.mjs')).href;
      const { createHook } = require('import-in-the-middle/create-hook.mjs') as {
        createHook(meta: { url: string }): ImportInTheMiddleHook;
      };
      const created = createHook({ url });
      created.applyOptions({ include: include() });
      return created;
    } catch (error) {
      failed = true;
      process.stderr.write(
        `observatory: ES modules will not be instrumented (${(error as Error).message})\n`,
      );
      return undefined;
    } finally {
      loading = false;
    }
  };
  Module.registerHooks({
    resolve(specifier, context, nextResolve) {
      if (hook) return hook.resolveSync(specifier, context, nextResolve);
      // The hook's own modules load through here while it is being loaded.
      if (loading || failed) return nextResolve(specifier, context);
      if (!context.conditions?.includes('require')) {
        hook = load();
        return hook ? hook.resolveSync(specifier, context, nextResolve) : nextResolve(specifier, context);
      }
      const resolved = nextResolve(specifier, context);
      if (resolved.format !== 'module') return resolved;
      // require(esm): resolved again, through the hook, which may wrap it.
      hook = load();
      return hook ? hook.resolveSync(specifier, context, nextResolve) : resolved;
    },
    load(url, context, nextLoad) {
      return hook && !loading ? hook.loadSync(url, context, nextLoad) : nextLoad(url, context);
    },
  });
  return true;
}
