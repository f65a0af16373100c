/**
 * esbuild's JavaScript API runs its work in a service process of its own, started on first use and kept for the life
 * of the caller's process: ≈ 35 MiB resident in every process that ever built something (the demo's CLI, the ETL
 * listener), for nothing once the build is done (issue 24). `usingEsbuild` stops it when the last build of this
 * process ends; a later build starts it again.
 */
type Esbuild = typeof import('esbuild');

let using = 0;

/** Runs `use` with esbuild's API (loaded on first use: it throws when esbuild is not installed). */
export async function usingEsbuild<T>(use: (esbuild: Esbuild) => Promise<T>): Promise<T> {
  const esbuild = await import('esbuild');
  using++;
  try {
    return await use(esbuild);
  } finally {
    if (--using === 0) await esbuild.stop();
  }
}
