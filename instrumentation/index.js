// The preload entry: `node --require ./instrumentation app.js` here, `node --require @observatory/instrumentation
// app.js` from the installed package (packages/build.ts). It starts telemetry before the app loads anything,
// so the instrumentations can patch http, express, undici, the AWS SDK and pino as the app loads them.
// CommonJS modules are patched through require hooks; ES modules only through a loader hook, which is registered
// here in-thread (module.registerHooks) where Node supports it (>= 24.11.1, >= 22.22.3), so ESM apps are
// instrumented under --require as well. On older Node, ESM apps use `--import ./instrumentation/register.mjs`.
// This file is an ES module loaded through require(esm) (Node >= 22.12; the installable package ships it as
// CommonJS); start() never throws.
import { registerEsmHook } from './src/esm-hook.ts';
import { esmHookTargets } from './src/instrumentations.ts';
import { start } from './src/sdk.ts';

// Start first, then hook ES modules: the packages start() loads (the exporters, the instrumentations, their ES builds,
// hundreds of modules) are then not wrapped by import-in-the-middle, which cost ≈ 10 MiB of an idle process (the
// memory bench). The instrumentations' hooks registered during start() take effect once the loader hook is in, and
// only the modules they patch — or, for a library's instrumentation created when the app first loads the library,
// will patch — are wrapped (esmHookTargets says why). The hook itself is loaded only when the process first loads
// an ES module (src/esm-hook.ts): a CommonJS app never pays for it.
start();
try {
  registerEsmHook(esmHookTargets);
} catch (error) {
  process.stderr.write(`observatory: ES modules will not be instrumented (${error.message})\n`);
}

export { activeTraceId, deliveries, flush, logger, shutdown } from './api.ts';
