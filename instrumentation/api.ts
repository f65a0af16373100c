/**
 * What application code uses: the logger, the active trace ID, flush for short-lived processes, and delivery counts.
 * Importing this starts nothing; the SDK is started by the preload (`--require ./instrumentation` or
 * `--import ./instrumentation/register.mjs`). Without it every function here still works, as a no-op.
 */
import { createLogger, type Logger } from './src/logger.ts';
import { currentTelemetry, type FlushResult } from './src/sdk.ts';

export { activeTraceId } from '../common/active-trace.ts';
export type { Logger } from './src/logger.ts';
export type { FlushResult } from './src/sdk.ts';

let instance: Logger | undefined;
const real = (): Logger => (instance ??= createLogger(currentTelemetry()));

/**
 * A pino logger: JSON lines with trace_id, span_id, trace_flags and the service information, also sent over OTLP.
 * Created on first use, so that it is built after the preload has started telemetry (ES modules evaluate their
 * imports first) and through the pino that the instrumentation patched.
 */
export const logger: Logger = new Proxy({} as Logger, {
  get(_target, property) {
    const target = real();
    const value = Reflect.get(target, property, target) as unknown;
    return typeof value === 'function' ? value.bind(target) : value;
  },
  set(_target, property, value) {
    return Reflect.set(real(), property, value);
  },
});

/**
 * Exports everything buffered (traces, metrics, logs) within `timeoutMillis`. Short-lived workers call it before they
 * acknowledge work. Never throws; resolves with what was delivered and dropped.
 */
export async function flush(timeoutMillis?: number): Promise<FlushResult> {
  const telemetry = currentTelemetry();
  if (!telemetry) return { completed: true, deliveries: emptyDeliveries() };
  return telemetry.flush(timeoutMillis);
}

/** Flushes and stops telemetry for good (the SIGTERM/SIGINT handlers call this too). */
export async function shutdown(timeoutMillis?: number): Promise<FlushResult> {
  const telemetry = currentTelemetry();
  if (!telemetry) return { completed: true, deliveries: emptyDeliveries() };
  return telemetry.shutdown(timeoutMillis);
}

/** Whether the preload started telemetry in this process (false without it, or when it failed to start). */
export function isStarted(): boolean {
  return currentTelemetry() !== undefined;
}

/** Counts per signal of what was offered, delivered, failed and dropped so far. */
export function deliveries(): FlushResult['deliveries'] {
  return currentTelemetry()?.deliveries() ?? emptyDeliveries();
}

function emptyDeliveries(): FlushResult['deliveries'] {
  const none = { offered: 0, delivered: 0, failed: 0, dropped: 0 };
  return { spans: { ...none }, logs: { ...none }, metrics: { ...none } };
}
