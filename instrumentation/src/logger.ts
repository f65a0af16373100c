/**
 * The ready logger. It is loaded through `require` on purpose: that is the path the pino instrumentation patches,
 * which adds trace_id/span_id/trace_flags to every line and sends each record over OTLP too.
 */
import { createRequire } from 'node:module';
import type { Logger as PinoLogger } from 'pino';
import type { Telemetry } from './sdk.ts';
import { instrumentationConfig } from './config.ts';
import { serviceAttributes } from './resource.ts';

export type Logger = PinoLogger;

const require = createRequire(import.meta.url);

export function createLogger(telemetry: Telemetry | undefined): Logger {
  const pino = require('pino') as typeof import('pino');
  const config = telemetry?.config ?? instrumentationConfig(process.env, () => {});
  return pino.default({
    level: config.appLogLevel,
    base: telemetry?.service ?? serviceAttributes(config),
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
