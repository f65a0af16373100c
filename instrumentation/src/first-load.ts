/**
 * Calls back when the app first loads a package, before that load completes, so that an instrumentation created in
 * the callback still patches it: the library instrumentations are created only for the libraries a process loads
 * (deferred-instrumentation.ts), and one that never loads pg pays nothing for pg's instrumentation.
 *
 * Two doors, because CommonJS and ES modules load apart:
 * - `require`: Module.prototype.require is wrapped (as require-in-the-middle does). Each instrumentation package
 *   brings its own copy of @opentelemetry/instrumentation, whose require-in-the-middle wraps `require` again when the
 *   instrumentation is created — after the call already in flight passed that layer. So a first `require` of a
 *   watched package calls back, then is dispatched again from the top of the now longer chain (the layers it passed
 *   twice let a module in the middle of being patched through, as require-in-the-middle does for cycles).
 * - `import`: a resolve hook (module.registerHooks, in-thread) calls back before the module loads; the
 *   instrumentation's import-in-the-middle hook, registered in the callback, then wraps it.
 * Both doors stay open only while a package is watched; `require` stays wrapped (as a pass-through) if another layer
 * wrapped it since, which cannot be taken out from under it.
 */
import Module from 'node:module';

interface Watch {
  readonly packages: readonly string[];
  readonly callback: () => void;
}

/** Watches by package name. */
const watches = new Map<string, Set<Watch>>();

type Require = (this: Module, id: string) => unknown;
let originalRequire: Require | undefined;
let watchingRequire: Require | undefined;
let resolveHook: { deregister(): void } | undefined;

/** Calls `callback` once, on the first load of any of `packages`; returns a function that stops watching. */
export function whenFirstLoaded(packages: readonly string[], callback: () => void): () => void {
  const watch: Watch = { packages, callback };
  for (const name of packages) {
    let set = watches.get(name);
    if (!set) watches.set(name, (set = new Set()));
    set.add(watch);
  }
  open();
  return () => forget(watch);
}

/** The package a bare specifier names (`pg`, `@smithy/core` of `@smithy/core/dist/x`); none for paths and built-ins. */
export function packageOf(specifier: string): string | undefined {
  if (specifier === '' || specifier.startsWith('.') || specifier.startsWith('/') || specifier.includes(':'))
    return undefined;
  const parts = specifier.split('/', 2);
  return specifier.startsWith('@') ? (parts.length === 2 ? `${parts[0]}/${parts[1]}` : undefined) : parts[0];
}

/** Calls back every watch of `name`'s package; whether there was one. */
function loaded(specifier: string): boolean {
  const name = packageOf(specifier);
  const set = name === undefined ? undefined : watches.get(name);
  if (!set) return false;
  for (const watch of [...set]) {
    forget(watch);
    watch.callback();
  }
  return true;
}

function forget(watch: Watch): void {
  for (const name of watch.packages) {
    const set = watches.get(name);
    set?.delete(watch);
    if (set?.size === 0) watches.delete(name);
  }
  if (watches.size === 0) close();
}

function open(): void {
  if (!originalRequire) {
    const original = (originalRequire = Module.prototype.require as Require);
    watchingRequire = function (this: Module, id: string) {
      if (watches.size > 0 && typeof id === 'string' && loaded(id))
        return (Module.prototype.require as Require).call(this, id);
      return original.call(this, id);
    };
    Module.prototype.require = watchingRequire as typeof Module.prototype.require;
  }
  resolveHook ??= Module.registerHooks?.({
    resolve(specifier, context, nextResolve) {
      // `require` is the other door's: this hook runs inside the require chain, too late for it.
      if (watches.size > 0 && !context.conditions?.includes('require')) loaded(specifier);
      return nextResolve(specifier, context);
    },
  });
}

function close(): void {
  if (originalRequire && Module.prototype.require === watchingRequire) {
    Module.prototype.require = originalRequire as typeof Module.prototype.require;
    originalRequire = watchingRequire = undefined;
  }
  resolveHook?.deregister();
  resolveHook = undefined;
}
