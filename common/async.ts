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

/**
 * Like Promise.all, but waits for every promise to settle before rejecting with the first failure (in input order),
 * so that nothing started here is still running when the caller reports the error and cleans up.
 */
export async function allSettledOrThrow<T extends readonly unknown[]>(
  work: [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
