/**
 * Counter deltas per process: the Collector's Prometheus exporter labels every series with `instance` =
 * service.instance.id, so a test reads what its own process added between two points instead of a cumulative
 * series that every earlier run and every other process also fed.
 */
import type { JaegerTrace } from './backends.ts';
import { promQuery } from './backends.ts';
import { pollUntil } from './poll.ts';

/** Every series of `sum by (instance, <label>) (<metric>{<selector>})`, keyed `instance|label value`. */
async function readCounters(metric: string, selector: string, label?: string): Promise<Map<string, number>> {
  const by = label ? `instance, ${label}` : 'instance';
  const samples = await promQuery(`sum by (${by}) (${metric}{${selector}})`);
  return new Map(
    samples.map((s) => [`${s.metric.instance}|${label ? s.metric[label] : ''}`, Number(s.value[1])] as const),
  );
}

/**
 * The counters once they have settled: what earlier work recorded reaches Prometheus one export and one scrape later
 * (1 s and 5 s in the tests), so the snapshot is taken when two reads 6 s apart agree.
 */
export async function counterSnapshot(
  metric: string,
  selector: string,
  label?: string,
): Promise<Map<string, number>> {
  let previous: string | undefined;
  return pollUntil(
    `${metric}{${selector}} to settle`,
    async () => {
      const snapshot = await readCounters(metric, selector, label);
      const text = JSON.stringify([...snapshot].sort());
      const settled = text === previous;
      previous = text;
      return settled ? snapshot : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 6_000 },
  );
}

/** The service.instance.id of `service`'s process in the trace (the `instance` label of its metrics). */
export function instanceOf(trace: JaegerTrace, service: string): string {
  const process = Object.values(trace.processes).find((p) => p.serviceName === service);
  const id = process?.tags.find((t) => t.key === 'service.instance.id')?.value;
  if (typeof id !== 'string') {
    throw new Error(`no ${service} process with a service.instance.id in trace ${trace.traceID}`);
  }
  return id;
}

/**
 * Waits until, for `instance`, each label value's counter has grown since `before` by at least what `expected` says,
 * and returns the deltas of those label values (the caller asserts they are exactly what its own work added).
 */
export async function counterDeltas(
  metric: string,
  selector: string,
  label: string | undefined,
  instance: string,
  before: Map<string, number>,
  expected: Record<string, number>,
): Promise<Record<string, number>> {
  return pollUntil(
    `${metric}{${selector}} of instance ${instance} to grow by ${JSON.stringify(expected)}`,
    async () => {
      const after = await readCounters(metric, selector, label);
      const deltas: Record<string, number> = {};
      for (const value of Object.keys(expected)) {
        const key = `${instance}|${value}`;
        deltas[value] = (after.get(key) ?? 0) - (before.get(key) ?? 0);
      }
      const grown = Object.entries(expected).every(([value, want]) => deltas[value]! >= want);
      return grown ? deltas : undefined;
    },
    { timeoutMs: 45_000, intervalMs: 1_000 },
  );
}
