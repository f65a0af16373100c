/**
 * What SIGTERM and SIGINT do to telemetry. The NodeSDK installs no handlers, and a naive one (shut down, then kill)
 * cuts an app's own shutdown short and loses the spans it emits while closing. So:
 * - the app has a handler of its own (`process.on` or `process.once`, registered before or after the preload): the
 *   app decides. Telemetry stays up while the app closes, and is flushed after it — when its event loop drains
 *   (asynchronously, within the shutdown bound), or when the app calls `process.exit()`: then synchronously, within
 *   the bound, and exit() exits there and then, as it does without us (it never returns to the app's code);
 * - the app has none: telemetry is flushed within the bound, then the signal is raised again with its default
 *   action, so the process ends the way it would have without us.
 */
type Shutdown = () => Promise<unknown>;
/** Delivers what is queued before the process exits, blocking (exit-flush.ts). */
type FlushNow = () => void;

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export function installSignalHandlers(shutdown: Shutdown, flushNow: FlushNow): void {
  const onSignal = (signal: NodeJS.Signals) => {
    for (const name of SIGNALS) process.removeListener(name, onSignal);
    // Ours runs first (prepended), so the app's listeners — `once` ones included — are all still registered here.
    if (process.listenerCount(signal) > 0) flushAfterTheApp(shutdown, flushNow);
    else
      void shutdown().finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
  };
  for (const name of SIGNALS) process.prependListener(name, onSignal);
}

/** The app is closing: flush when it exits explicitly, or when nothing is left to run. */
function flushAfterTheApp(shutdown: Shutdown, flushNow: FlushNow): void {
  const exit = process.exit.bind(process);
  // Replaced for the rest of the process' life only: a signal has arrived, the app is on its way out.
  process.exit = ((code?: number | string | null) => {
    process.exit = exit;
    flushNow();
    return exit(code ?? undefined);
  }) as typeof process.exit;
  process.once('beforeExit', () => void shutdown());
}
