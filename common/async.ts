/** Small promise helpers every part may use. */

/**
 * Resolves with `work`'s value, or with `fallback` once `ms` have passed — whichever comes first. The timer never
 * keeps the process alive. A rejection of `work` passes through.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
