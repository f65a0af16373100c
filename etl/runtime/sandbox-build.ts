/**
 * What a local sandbox runs: the worker, the preload and the compaction's staging thread built to JavaScript
 * (common/js-build.ts), as the Lambda artifact runs them — not the TypeScript sources, whose type stripping keeps
 * ≈ 18 MiB resident in every process and thread (issue 24). Built once per listener and shared by its fleets; with
 * no build (esbuild not installed, or the build failed: said once on stderr) a sandbox runs the sources.
 */
import { join } from 'node:path';
import { jsBuildOrSources } from '../../common/js-build.ts';
import { REPO_ROOT } from '../../common/paths.ts';

export interface SandboxFiles {
  /** The worker's entry module. */
  worker: string;
  /** The preload, for `--require`. */
  preload: string;
}

const SOURCES: SandboxFiles = {
  worker: join(REPO_ROOT, 'etl', 'runtime', 'worker.ts'),
  preload: './instrumentation',
};

/** The built sandbox, or the sources when there is no build. Never rejects. */
export async function sandboxFiles(): Promise<SandboxFiles> {
  const built = await jsBuildOrSources(
    {
      entries: {
        preload: 'instrumentation/index.js',
        // The staging thread's code is a module of its own in the build; lake/staging.ts finds it under this symbol.
        worker: {
          contents: [
            `globalThis[Symbol.for('observatory.lake.stagingWorkerUrl')] = new URL('./staging.mjs', import.meta.url).href;`,
            `import './etl/runtime/worker.ts';`,
          ].join('\n'),
        },
        staging: 'lake/staging.ts',
      },
      // Constants only; the incubating entry alone is ≈ 7 MiB loaded whole, and common/names.ts takes eleven names.
      inline: ['@opentelemetry/semantic-conventions'],
    },
    'ETL sandboxes',
  );
  return built ? { worker: built.worker!, preload: built.preload! } : SOURCES;
}
