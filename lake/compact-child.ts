/**
 * One compaction in a process of its own, started by lake/compact-process.ts: reads its request — one JSON line on
 * stdin: the lake config, and the keys to compact or the signals to look through — compacts, and writes the result,
 * with the process's peak resident set, as one JSON line on stdout. A failure is one line on stderr and exit 1.
 */
import { readFileSync } from 'node:fs';
import { S3Store } from '../common/s3-store.ts';
import { compact, compactAll } from './compact.ts';
import type { CompactionRequest, CompactionReport } from './compact-process.ts';

async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const request = JSON.parse(input) as CompactionRequest;
  // Built, the staging thread's code is a module of its own beside this one (lake/staging.ts looks here first).
  if (request.stagingWorkerUrl) {
    (globalThis as Record<symbol, unknown>)[Symbol.for('observatory.lake.stagingWorkerUrl')] =
      request.stagingWorkerUrl;
  }
  const config = request.config;
  const store = S3Store.fromSettings(config.s3);
  const baseMb = statusMb('VmRSS');
  const start = performance.now();
  const options = { config, store, force: request.force, signals: request.signals };
  const result = request.keys ? await compact(request.keys, options) : await compactAll(options);
  const report: CompactionReport = {
    result,
    seconds: (performance.now() - start) / 1000,
    baseMb,
    peakMb: statusMb('VmHWM'),
    module: process.argv[1] ?? '',
    execArgv: process.execArgv,
    mallocArenaMax: process.env.MALLOC_ARENA_MAX,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** A figure of /proc/self/status in MiB (VmHWM: peak resident set; VmRSS: now); NaN where there is no /proc. */
function statusMb(field: 'VmHWM' | 'VmRSS'): number {
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
