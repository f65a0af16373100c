/**
 * A compaction in a child process run the way an ETL compaction sandbox runs it (etl/runtime/sandbox-build.ts):
 * built to JavaScript (common/js-build.ts) — a process that strips TypeScript keeps the stripper's ≈ 18 MiB resident
 * for its life — with a small semi-space, so `observatory lake compact` peaks where the sandbox does (≤ 256 MiB at
 * any input, issue 23) instead of ≈ 30 MiB above it. Without a build (esbuild not installed) the child runs the
 * sources. The child inherits the environment: a `--require` preload in NODE_OPTIONS instruments it as before.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { jsBuild } from '../common/js-build.ts';
import { REPO_ROOT } from '../common/paths.ts';
import type { CompactionResult } from './compact.ts';
import { lakeConfig, type LakeConfig, type LakeSignal } from './config.ts';

/** What the child is asked: `keys` to compact, or (without) every unprocessed object of `signals`. */
export interface CompactionRequest {
  config: LakeConfig;
  keys?: string[];
  signals?: readonly LakeSignal[];
  force?: boolean;
  /** The built staging thread's module (lake/staging.ts), when the child is built. */
  stagingWorkerUrl?: string;
}

/** What the child answers: the result, and its resident set before compacting and at its peak (VmHWM), in MiB. */
export interface CompactionReport {
  result: CompactionResult;
  seconds: number;
  baseMb: number;
  peakMb: number;
  /** How the child ran: its main module (`.mjs` when built), Node's flags and glibc's arena limit. */
  module: string;
  execArgv: string[];
  mallocArenaMax?: string;
}

export interface ChildOptions {
  /** @default lakeConfig() */
  config?: LakeConfig;
  keys?: string[];
  signals?: readonly LakeSignal[];
  force?: boolean;
  /** `sources`: the TypeScript with V8's defaults, as before (bench/lake.ts compares). @default 'built' */
  runtime?: 'built' | 'sources';
}

/** Compacts in a child process; rejects with the child's error line when it fails. */
export async function compactInChild(options: ChildOptions = {}): Promise<CompactionReport> {
  const config = options.config ?? lakeConfig();
  const { args, stagingWorkerUrl } = await childCommand(config, options.runtime ?? 'built');
  const request: CompactionRequest = {
    config,
    keys: options.keys,
    signals: options.signals,
    force: options.force,
    stagingWorkerUrl,
  };
  // glibc's arenas (one per thread that allocates, up to 8 a core) each keep their freed pages: fewer of them, a
  // lower peak (lakeConfig compactionMallocArenas). A MALLOC_ARENA_MAX set in the environment is kept.
  const arenas =
    config.compactionMallocArenas > 0 ? { MALLOC_ARENA_MAX: String(config.compactionMallocArenas) } : {};
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...arenas, ...process.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin.end(JSON.stringify(request));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolve(signal ? null : exitCode));
  });
  const answer = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !answer.startsWith('{')) {
    const reason = stderr.trim().split('\n').filter(Boolean).pop();
    throw new Error(
      reason ?? `the compaction process ended ${code === null ? 'by a signal' : `with exit code ${code}`}`,
    );
  }
  return JSON.parse(answer) as CompactionReport;
}

async function childCommand(
  config: LakeConfig,
  runtime: 'built' | 'sources',
): Promise<{ args: string[]; stagingWorkerUrl?: string }> {
  const sources = join(REPO_ROOT, 'lake', 'compact-child.ts');
  if (runtime === 'sources') return { args: [sources] };
  const built = await jsBuild({
    entries: { 'lake-compact': 'lake/compact-child.ts', staging: 'lake/staging.ts' },
    inline: ['@opentelemetry/semantic-conventions'],
  }).catch(() => undefined);
  const semiSpace = `--max-semi-space-size=${config.compactionSemiSpaceMb}`;
  if (!built?.['lake-compact'] || !built.staging) return { args: [semiSpace, sources] };
  return {
    args: [semiSpace, built['lake-compact']],
    stagingWorkerUrl: pathToFileURL(built.staging).href,
  };
}
