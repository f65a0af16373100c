/**
 * The service map: which service calls which, from span data (Jaeger's dependency links, and the parent/child pairs
 * that cross services in each service's recent traces), with each service's request rate, error rate and p95 from
 * span metrics in Prometheus.
 */
import { applicationServices, isStackService, JaegerClient, type JaegerTrace } from '../trace/index.ts';
import type { UiConfig } from './config.ts';
import type { ServiceMap, ServiceStats } from './types.ts';

const WINDOW = '5m';
const LOOKBACK_MS = 60 * 60_000;
const SERVER_KINDS = 'span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER"';

export async function serviceMap(config: UiConfig, jaeger: JaegerClient): Promise<ServiceMap> {
  const notes: string[] = [];
  let dependencies: Link[] = [];
  try {
    dependencies = await jaeger.dependencies(Date.now(), LOOKBACK_MS);
  } catch (error) {
    notes.push(
      `Jaeger's dependencies could not be read (${(error as Error).message}); derived from recent traces`,
    );
  }
  // Jaeger's dependency links are not enough alone: its Badger store derives them from at most 100 traces of the
  // window (its dependency store searches with the reader's default limit), so a burst of ETL jobs can hide the
  // gateway's calls. Each service's own recent traces are added to them.
  const links = mergeLinks(dependencies, await linksFromTraces(config, jaeger));
  const source: ServiceMap['source'] = links.some((l) => l.fromDependencies)
    ? 'jaeger-dependencies'
    : 'recent-traces';
  const services = new Set(applicationServices(await jaeger.services()));
  for (const link of links) services.add(link.parent).add(link.child);
  const stats = await statsByService(config, notes);
  const of = (service: string): ServiceStats =>
    stats.get(service) ?? { request_rate: null, error_rate: null, p95_ms: null };
  return {
    nodes: [...services].sort().map((service) => ({ service, ...of(service) })),
    edges: links
      .map((l) => ({ from: l.parent, to: l.child, calls: l.callCount, callee: of(l.child) }))
      .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
    source,
    window: WINDOW,
    notes,
  };
}

interface Link {
  parent: string;
  child: string;
  callCount: number;
}

/**
 * Jaeger's dependency links and the links found in recent traces, one per caller → callee: Jaeger's count where it
 * has the pair (it saw the whole window), else the count from the traces. Calls of a service to itself and the stack's
 * own services (trace/stack-services.ts) are left out.
 */
export function mergeLinks(
  dependencies: Link[],
  fromTraces: Link[],
): (Link & { fromDependencies: boolean })[] {
  const merged = new Map<string, Link & { fromDependencies: boolean }>();
  for (const [list, fromDependencies] of [
    [fromTraces, false],
    [dependencies, true],
  ] as const) {
    for (const link of list) {
      if (isStackService(link.parent) || isStackService(link.child) || link.parent === link.child) continue;
      merged.set(`${link.parent}\u0000${link.child}`, { ...link, fromDependencies });
    }
  }
  return [...merged.values()];
}

/** Parent/child span pairs whose services differ, counted over each service's newest traces. */
async function linksFromTraces(config: UiConfig, jaeger: JaegerClient): Promise<Link[]> {
  const traces = new Map<string, JaegerTrace>();
  for (const service of applicationServices(await jaeger.services())) {
    for (const trace of await jaeger.search({ service, limit: config.searchLimit, lookback: '1h' })) {
      traces.set(trace.traceID, trace);
    }
  }
  const counts = new Map<string, number>();
  for (const trace of traces.values()) {
    const serviceOf = new Map(
      trace.spans.map((s) => [s.spanID, trace.processes[s.processID]?.serviceName ?? 'unknown']),
    );
    for (const span of trace.spans) {
      const parent = span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
      const from = parent === undefined ? undefined : serviceOf.get(parent);
      const to = serviceOf.get(span.spanID)!;
      if (from === undefined || from === to) continue;
      const key = `${from}\u0000${to}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts].map(([key, callCount]) => {
    const [parent, child] = key.split('\u0000') as [string, string];
    return { parent, child, callCount };
  });
}

async function statsByService(config: UiConfig, notes: string[]): Promise<Map<string, ServiceStats>> {
  const calls = `traces_span_metrics_calls_total{${SERVER_KINDS}}`;
  const errors = `traces_span_metrics_calls_total{${SERVER_KINDS}, status_code="STATUS_CODE_ERROR"}`;
  const buckets = `traces_span_metrics_duration_milliseconds_bucket{${SERVER_KINDS}}`;
  const stats = new Map<string, ServiceStats>();
  const entry = (service: string) => {
    if (!stats.has(service)) stats.set(service, { request_rate: null, error_rate: null, p95_ms: null });
    return stats.get(service)!;
  };
  try {
    const [rates, errorRates, p95s] = await Promise.all([
      instant(config, `sum by (service_name) (rate(${calls}[${WINDOW}]))`),
      instant(config, `sum by (service_name) (rate(${errors}[${WINDOW}]))`),
      instant(config, `histogram_quantile(0.95, sum by (le, service_name) (rate(${buckets}[${WINDOW}])))`),
    ]);
    for (const [service, value] of rates) entry(service).request_rate = value;
    for (const [service, stat] of stats) {
      const failed = errorRates.get(service) ?? 0;
      stat.error_rate = stat.request_rate ? failed / stat.request_rate : 0;
    }
    for (const [service, value] of p95s) if (Number.isFinite(value)) entry(service).p95_ms = value;
  } catch (error) {
    notes.push(`span metrics unavailable: ${(error as Error).message}`);
  }
  return stats;
}

async function instant(config: UiConfig, query: string): Promise<Map<string, number>> {
  const response = await fetch(`${config.prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`, {
    signal: AbortSignal.timeout(config.prometheusTimeoutMs),
  });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`Prometheus: ${body.error ?? response.status}`);
  return new Map(
    (body.data?.result ?? []).map((r) => [r.metric.service_name ?? 'unknown', Number(r.value[1])]),
  );
}
