// The ESM preload: `node --import ./instrumentation/register.mjs app.mjs`.
// ES modules are not loaded through require, so the instrumentations can only patch them through a loader hook
// (import-in-the-middle), registered here before telemetry starts. Without it Express under ESM has no route spans.
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';

const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

await import('./index.js');
await waitForAllMessagesAcknowledged();
