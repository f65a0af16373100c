/**
 * The lake bench's child (bench/lake.ts): one compaction of everything under the bench's raw prefix of one signal, in
 * a fresh process, reporting rows/s and the process's peak RSS (VmHWM, the staging thread and DuckDB included) as one
 * JSON line. bench/lake.ts runs it built to JavaScript with the ETL sandbox's semi-space, as a compaction sandbox runs
 * the compaction (etl/runtime/sandbox-build.ts), or from the sources with V8's defaults (`--runtime sources`).
 *
 *   node bench/lib/lake-child.ts <signal> <prefix>
 */
import { readFileSync } from 'node:fs';
import { compact, lakeConfig, type LakeConfig, type LakeSignal } from '../../lake/index.ts';
import { S3Store } from '../../common/s3-store.ts';

/** The lake config of a bench run: every zone under `prefix`, so the real lake is untouched. */
export function benchConfig(prefix: string): LakeConfig {
  const base = lakeConfig();
  return {
    ...base,
    raw: {
      events: `${prefix}raw/events/`,
      logs: `${prefix}raw/logs/`,
      metrics: `${prefix}raw/metrics/`,
      traces: `${prefix}raw/traces/`,
    },
    curatedPrefix: `${prefix}curated/`,
    manifestPrefix: `${prefix}lake/manifest/`,
  };
}

export async function compactionChild(signal: LakeSignal, prefix: string): Promise<void> {
  const config = benchConfig(prefix);
  const store = S3Store.fromSettings(config.s3);
  const keys = (await store.list(config.raw[signal])).map((o) => o.key);
  const baseMb = procStatusMb('VmRSS');
  const start = performance.now();
  const result = await compact(keys, { store, config });
  const seconds = (performance.now() - start) / 1000;
  const stats = result.signals[signal];
  console.log(JSON.stringify({ seconds, peakMb: procStatusMb('VmHWM'), baseMb, ...stats }));
}

/** A figure of /proc/self/status in MiB (VmHWM: peak resident set; VmRSS: now). */
function procStatusMb(field: 'VmHWM' | 'VmRSS'): number {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) / 1024;
}

if (import.meta.main) {
  const [signal, prefix] = process.argv.slice(2);
  await compactionChild(signal as LakeSignal, prefix!);
}
