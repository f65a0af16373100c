// The ESM preload: `node --import ./instrumentation/register.mjs app.mjs` (from the package:
// `--import @observatory/instrumentation/register`).
// ES modules are not loaded through require, so the instrumentations can only patch them through a loader hook.
// Where Node supports in-thread hooks, index.js registers them itself; otherwise this registers the off-thread
// loader (module.register) and waits until it has every hook before the app's imports start. Without a loader
// hook, Express under ESM has no route spans.
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { supportsSyncHooks } from 'import-in-the-middle/supports-sync-hooks.mjs';

if (supportsSyncHooks()) {
  await import('./index.js');
} else {
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  await import('./index.js');
  await waitForAllMessagesAcknowledged();
}
