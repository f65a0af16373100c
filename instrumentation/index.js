// The preload entry: `node --require ./instrumentation app.js` (CommonJS apps) or, for ESM apps,
// `node --import ./instrumentation/register.mjs app.mjs`. It starts telemetry before the app loads anything,
// so the instrumentations can patch http, express, undici, the AWS SDK and pino as the app requires them.
// It is an ES module loaded through require(esm) (Node >= 22.12); start() never throws.
import { start } from './src/sdk.ts';

start();

export { activeTraceId, deliveries, flush, logger, shutdown } from './api.ts';
