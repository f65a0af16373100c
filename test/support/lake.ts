/** Read-back helpers for the lake: raw event objects found by trace ID, flattened the way compaction does. */
import { Flattener, lakeConfig, type LakeConfig, type OtlpLogsDocument } from '../../lake/index.ts';
import { listKeys, readObject } from './backends.ts';
import { pollUntil } from './poll.ts';

/** The hourly raw/events/ prefixes of the last two hours (UTC): where objects written by this run can be. */
export function recentRawPrefixes(now = new Date()): string[] {
  return [0, 1].map((hoursAgo) => {
    const t = new Date(now.getTime() - hoursAgo * 3_600_000);
    const p = (n: number) => String(n).padStart(2, '0');
    return `raw/events/year=${t.getUTCFullYear()}/month=${p(t.getUTCMonth() + 1)}/day=${p(t.getUTCDate())}/hour=${p(t.getUTCHours())}/`;
  });
}

/**
 * Waits until raw/events/ holds `count` records with this trace ID (they may be split over several objects);
 * returns the keys of those objects.
 */
export async function rawKeysForTrace(traceId: string, count: number, timeoutMs = 30_000): Promise<string[]> {
  const flattener = new Flattener();
  const matching = new Map<string, number>();
  const seen = new Set<string>();
  return pollUntil(
    `${count} records with trace ID ${traceId} under raw/events/`,
    async () => {
      for (const prefix of recentRawPrefixes()) {
        for (const key of await listKeys(prefix)) {
          if (seen.has(key)) continue;
          seen.add(key);
          const text = await readObject(key);
          if (!text.includes(traceId)) continue;
          const flat = flattener.flatten(JSON.parse(text) as OtlpLogsDocument);
          const n = [...flat.events, ...flat.rejected].filter((row) => row.trace_id === traceId).length;
          matching.set(key, n);
        }
      }
      const total = [...matching.values()].reduce((a, b) => a + b, 0);
      if (total > count)
        throw new Error(`found ${total} records with trace ID ${traceId}, expected ${count}`);
      return total === count ? [...matching.keys()] : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/** The hourly raw prefixes of a signal for the last two hours (UTC). */
export function recentSignalPrefixes(
  signal: 'events' | 'logs' | 'metrics' | 'traces',
  now = new Date(),
): string[] {
  return recentRawPrefixes(now).map((prefix) => prefix.replace(/^raw\/events\//, `raw/${signal}/`));
}

/** The keys of every raw object of the signal (last two hours) whose text contains `needle`. */
export async function rawKeysContaining(
  signal: 'events' | 'logs' | 'metrics' | 'traces',
  needle: string,
): Promise<string[]> {
  const keys: string[] = [];
  for (const prefix of recentSignalPrefixes(signal)) {
    for (const key of await listKeys(prefix)) {
      if ((await readObject(key)).includes(needle)) keys.push(key);
    }
  }
  return keys;
}

/** A lake of its own under `base` in the shared bucket (raw zones, curated zone, manifests) with its own cache. */
export function lakeUnder(base: string, cacheDir: string): LakeConfig {
  return {
    ...lakeConfig(),
    raw: {
      events: `${base}raw/events/`,
      logs: `${base}raw/logs/`,
      metrics: `${base}raw/metrics/`,
      traces: `${base}raw/traces/`,
    },
    curatedPrefix: `${base}curated/`,
    manifestPrefix: `${base}lake/manifest/`,
    cacheDir,
  };
}
