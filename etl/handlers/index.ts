/**
 * The functions the fleet and the Lambda entry point can run, by name: each a loader of a module exporting a
 * Lambda-signature `handler`. Loaders, not paths: a sandbox imports only the handler it runs (a crop-statistics one
 * never loads DuckDB), and esbuild follows the literal imports into the Lambda bundle, where each module still
 * initialises only when its function is first invoked.
 */
import type { FunctionName, Handler } from '../types.ts';

export const FUNCTIONS: Record<FunctionName, () => Promise<{ handler: Handler }>> = {
  crop_stats: async () => (await import('./crop-stats.ts')) as unknown as { handler: Handler },
  compaction: async () => (await import('./compaction.ts')) as unknown as { handler: Handler },
};

const loaded = new Map<FunctionName, Promise<Handler>>();

/** The handler of `name`, imported once per process; a failed import is tried again at the next call. */
export function loadHandler(name: FunctionName): Promise<Handler> {
  let handler = loaded.get(name);
  if (!handler) {
    handler = FUNCTIONS[name]().then((module) => module.handler);
    handler.catch(() => loaded.delete(name));
    loaded.set(name, handler);
  }
  return handler;
}
