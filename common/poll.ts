/**
 * Polls until `probe` returns a value (anything but undefined) or the deadline passes. On timeout the error says what
 * was awaited and what the last attempt saw, instead of a bare timeout. A probe that throws counts as "not yet",
 * except an assertion failure (a test's `expect`), which is thrown at once: retrying cannot fix a wrong value.
 */
export interface PollOptions {
  /** @default 30000 */
  timeoutMs?: number;
  /** @default 250 */
  intervalMs?: number;
  /** Stops waiting early. */
  signal?: AbortSignal;
}

export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: PollOptions = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 250, signal } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'nothing yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = 'not yet';
    } catch (error) {
      if (isAssertion(error)) throw error;
      last = error instanceof Error ? error.message : error;
    }
    if (Date.now() + intervalMs > deadline || signal?.aborted) break;
    await sleep(intervalMs, signal);
  }
  throw new PollTimeoutError(
    `timed out after ${timeoutMs} ms waiting for ${what}; last attempt: ${String(last)}`,
  );
}

export class PollTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PollTimeoutError';
  }
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

function isAssertion(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return (
    name === 'AssertionError' || (error as { matcherResult?: unknown } | null)?.matcherResult !== undefined
  );
}
