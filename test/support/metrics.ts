/**
 * Counter deltas per process: the Collector's Prometheus exporter labels every series with `instance` =
 * service.instance.id, so a test reads what its own process added between two points instead of a cumulative
 * series that every earlier run and every other process also fed.
 */
import type { JaegerTrace } from './backends.ts';
import { promQuery } from './backends.ts';
import { pollUntil } from './poll.ts';

/** Every series of `sum by (instance, <label>) (<metric>{job=…})`, keyed `instance|label value`. */
export async function counterSnapshot(
  metric: string,
  job: string,
  label?: string,
): Promise<Map<string, number>> {
  const by = label ? `instance, ${label}` : 'instance';
  const samples = await promQuery(`sum by (${by}) (${metric}{job="${job}"})`);
  return new Map(
    samples.map((s) => [`${s.metric.instance}|${label ? s.metric[label] : ''}`, Number(s.value[1])] as const),
  );
}

/** The service.instance.id of `service`'s process in the trace (the `instance` label of its metrics). */
export function instanceOf(trace: JaegerTrace, service: string): string {
  const process = Object.values(trace.processes).find((p) => p.serviceName === service);
  const id = process?.tags.find((t) => t.key === 'service.instance.id')?.value;
  if (typeof id !== 'string')
    throw new Error(`no ${service} process with a service.instance.id in trace ${trace.traceID}`);
  return id;
}

/**
 * Waits until, for `instance`, each label value's counter has grown since `before` by at least what `expected` says
 * (metrics are exported and scraped every few seconds), and returns the deltas of those label values.
 */
export async function counterDeltas(
  metric: string,
  job: string,
  label: string | undefined,
  instance: string,
  before: Map<string, number>,
  expected: Record<string, number>,
): Promise<Record<string, number>> {
  return pollUntil(
    `${metric} of instance ${instance} to grow by ${JSON.stringify(expected)}`,
    async () => {
      const after = await counterSnapshot(metric, job, label);
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
