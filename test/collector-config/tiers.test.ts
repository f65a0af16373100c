/**
 * The scale-out gateway on loopback ports: one load-balancing Collector (collector-config/gateway-lb.yaml, static
 * resolver) in front of two sampling Collectors (collector-config/base.yaml + gateway-sampling.yaml), the committed
 * files with only their environment set, exporting kept traces to the stack's Jaeger. Our OTLP load client
 * (bench/lib/otlp-load.ts) sends 1 000 demo-like traces of several services — each service's spans in requests of
 * their own, so only routing by trace ID brings a trace together — some with errors, some slow, some ETL jobs:
 *  - every trace Jaeger has is complete, and all its spans passed through the same sampling Collector;
 *  - every error, slow and ETL trace is kept; the rest at the configured share ± 3 %;
 *  - span-metric request counts (computed before sampling, summed over the sampling Collectors) equal the requests
 *    sent;
 *  - one sampling Collector killed mid-run: traces keep flowing through the other; what was lost is reported.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { promSamples } from '../../bench/lib/collector-process.ts';
import {
  sendTraces,
  TraceGenerator,
  type GeneratedTrace,
  type SendResult,
} from '../../bench/lib/otlp-load.ts';
import { samplingCollector, startTiers, type TierOptions, type Tiers } from '../../bench/lib/tiers.ts';
import {
  collectorRoleFiles,
  mergedCollectorConfig,
  type CollectorRole,
} from '../../stack/collector-roles.ts';
import { stackEndpoints, type JaegerTrace } from '../support/backends.ts';
import { pollUntil } from '../support/poll.ts';

const SHARE = 10;
const TOLERANCE = 3;
const TRACES = 1000;
const dir = mkdtempSync(join(tmpdir(), 'observatory-tiers-'));
const token = randomBytes(24).toString('hex');
let tiers: Tiers;
let options: TierOptions;

function jaegerOtlpHttp(): string {
  const jaeger = inject('stack').components.find((c) => c.name === 'jaeger')!;
  return jaeger.endpoints.otlpHttp!;
}

beforeAll(async () => {
  options = {
    base: 24800,
    dir,
    token,
    tracesEndpoint: jaegerOtlpHttp(),
    samplingEnv: {
      OBSERVATORY_SAMPLING_PERCENTAGE: String(SHARE),
      OBSERVATORY_SAMPLING_SLOW_MS: '1000',
      OBSERVATORY_SAMPLING_DECISION_WAIT: '2s',
      OBSERVATORY_SPANMETRICS_FLUSH_INTERVAL: '1s',
    },
  };
  tiers = await startTiers(options);
}, 90_000);

afterAll(async () => {
  await tiers?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The trace as Jaeger has it, or undefined when Jaeger does not have it. */
async function jaegerTrace(traceId: string): Promise<JaegerTrace | undefined> {
  const response = await fetch(`${stackEndpoints().jaeger}/api/traces/${traceId}`);
  if (response.status === 404) return undefined;
  const body = (await response.json()) as { data?: JaegerTrace[] };
  return body.data?.[0];
}

interface Seen {
  trace: GeneratedTrace;
  /** Span IDs Jaeger has for the trace (empty: not kept). */
  spanIds: Set<string>;
  /** The sampling Collectors its spans passed through (the resource attribute each sets). */
  instances: Set<string>;
}

async function look(traces: GeneratedTrace[]): Promise<Seen[]> {
  const seen: Seen[] = [];
  for (let i = 0; i < traces.length; i += 20) {
    const slice = traces.slice(i, i + 20);
    const found = await Promise.all(slice.map((t) => jaegerTrace(t.traceId)));
    slice.forEach((trace, j) => {
      const stored = found[j];
      const instances = new Set<string>();
      for (const span of stored?.spans ?? []) {
        const tags = stored!.processes[span.processID]?.tags ?? [];
        const instance = tags.find((t) => t.key === 'observatory.collector.instance')?.value;
        if (typeof instance === 'string') instances.add(instance);
      }
      seen.push({ trace, spanIds: new Set(stored?.spans.map((s) => s.spanID) ?? []), instances });
    });
  }
  return seen;
}

const complete = (s: Seen) =>
  s.trace.spanIds.every((id) => s.spanIds.has(id)) && s.spanIds.size === s.trace.spanIds.length;
const mustKeep = (t: GeneratedTrace) => t.kind !== 'plain';

/** Server calls per `service|route` of one stage, summed over every sampling Collector's span metrics. */
async function spanMetricCalls(stage: string): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const url of tiers.samplerMetrics) {
    const text = await (await fetch(url)).text();
    for (const sample of promSamples(text, 'traces_span_metrics_calls_total')) {
      const { labels } = sample;
      if (labels.span_kind !== 'SPAN_KIND_SERVER' || labels.deployment_environment_name !== stage) continue;
      const key = `${labels.service_name}|${labels.http_route ?? ''}`;
      totals[key] = (totals[key] ?? 0) + sample.value;
    }
  }
  return totals;
}

function expectedCalls(traces: GeneratedTrace[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const trace of traces)
    for (const [key, n] of Object.entries(trace.serverSpans)) totals[key] = (totals[key] ?? 0) + n;
  return totals;
}

describe('the sampling role', () => {
  it('processes data as the gateway role does, adding only tail sampling after span metrics', () => {
    const read = (role: CollectorRole) =>
      mergedCollectorConfig(collectorRoleFiles(role)) as {
        processors: Record<string, unknown>;
        connectors: Record<string, unknown>;
        service: {
          pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }>;
        };
      };
    const gateway = read('gateway');
    const sampling = read('gateway-sampling');
    const shared = (config: ReturnType<typeof read>) => ({
      ...config.processors,
      resource: undefined,
      tail_sampling: undefined,
    });
    expect(shared(sampling)).toEqual(shared(gateway));
    expect(sampling.connectors.spanmetrics).toEqual(gateway.connectors.spanmetrics);
    const { traces, 'traces/sampled': sampled, ...others } = sampling.service.pipelines;
    // Every span reaches spanmetrics through the same processors as on the gateway; only then is it sampled.
    expect(traces!.processors).toEqual(gateway.service.pipelines.traces!.processors);
    expect(traces!.exporters).toEqual(['spanmetrics', 'forward/sampling']);
    expect(sampled).toMatchObject({ receivers: ['forward/sampling'], processors: ['tail_sampling'] });
    expect(others['logs/events']).toEqual(gateway.service.pipelines['logs/events']);
    expect(others['logs/app']).toEqual(gateway.service.pipelines['logs/app']);
  });
});

describe('the load-balancing and sampling tiers', () => {
  const stage = `tiers-${Date.now()}`;
  let sent: SendResult;
  let seen: Seen[];

  beforeAll(async () => {
    sent = await sendTraces(new TraceGenerator(15), TRACES, {
      endpoint: tiers.lbHttp,
      headers: { authorization: `Bearer ${token}` },
      stage,
      splitByService: true,
      tracesPerRequest: 20,
    });
    // Decisions come decision_wait (2 s) after a trace's first span. Wait until every trace is decided (the sampling
    // Collectors' decision count; each trace goes to one of them, and a late part of a trace meets the decision
    // cache, not a second decision) and every kept one delivered: the tiers hold nothing (settled), and Jaeger has
    // as many traces of the run as the sampling Collectors say they kept.
    await pollUntil(
      `a sampling decision for each of the ${TRACES} traces`,
      async () => ((await metricSum(tiers.ownMetrics.slice(1), KEPT)) >= TRACES ? true : undefined),
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    await settled();
    seen = await pollUntil(
      'as many traces of the run in Jaeger as the sampling Collectors kept',
      async () => {
        const found = await look(sent.traces);
        const kept = await metricSum(tiers.ownMetrics.slice(1), KEPT, (l) => l.sampled === 'true');
        return found.filter((s) => s.spanIds.size > 0).length >= kept ? found : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
  }, 240_000);

  it('accepts every request of the run', () => {
    expect(sent.traces).toHaveLength(TRACES);
    expect(sent.failedRequests).toBe(0);
    // Every kind of trace is in the run.
    for (const kind of ['plain', 'error', 'slow', 'etl'] as const)
      expect(sent.traces.filter((t) => t.kind === kind).length).toBeGreaterThan(20);
  });

  it('stores every kept trace complete, all its spans from one sampling Collector, both Collectors in use', () => {
    const kept = seen.filter((s) => s.spanIds.size > 0);
    const partial = kept
      .filter((s) => !complete(s))
      .map((s) => `${s.trace.traceId} (${s.spanIds.size}/${s.trace.spanIds.length})`);
    expect(partial).toEqual([]);
    const mixed = kept
      .filter((s) => s.instances.size !== 1)
      .map((s) => `${s.trace.traceId}: ${[...s.instances]}`);
    expect(mixed).toEqual([]);
    const perInstance: Record<string, number> = {};
    for (const s of kept) perInstance[[...s.instances][0]!] = (perInstance[[...s.instances][0]!] ?? 0) + 1;
    expect(Object.keys(perInstance).sort()).toEqual(['sampling-a', 'sampling-b']);
    console.log(
      `tiers: ${kept.length} of ${TRACES} traces kept; per sampling Collector: ` +
        Object.entries(perInstance)
          .map(([name, n]) => `${name} ${n}`)
          .join(', '),
    );
  });

  it('keeps every error, slow and ETL trace, and the configured share of the rest', () => {
    const missing = seen
      .filter((s) => mustKeep(s.trace) && !complete(s))
      .map((s) => `${s.trace.kind} ${s.trace.traceId}`);
    expect(missing).toEqual([]);
    const rest = seen.filter((s) => s.trace.kind === 'plain');
    const keptShare = (100 * rest.filter((s) => s.spanIds.size > 0).length) / rest.length;
    console.log(
      `tiers: ${keptShare.toFixed(1)} % of ${rest.length} plain traces kept (configured ${SHARE} %)`,
    );
    expect(Math.abs(keptShare - SHARE)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('counts every request in span metrics, sampled or not', async () => {
    const expected = expectedCalls(sent.traces);
    const last = await pollUntil(
      'span-metric server calls equal to the requests sent',
      async () => {
        const counted = await spanMetricCalls(stage);
        return JSON.stringify(sortKeys(counted)) === JSON.stringify(sortKeys(expected)) ? counted : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    ).catch(async () => spanMetricCalls(stage));
    expect(sortKeys(last)).toEqual(sortKeys(expected));
    expect(
      Object.keys(expected)
        .map((k) => k.split('|')[0])
        .sort(),
    ).toEqual(expect.arrayContaining(['catalog', 'gateway', 'users']));
  });

  it('keeps traces flowing through the other sampling Collector when one is killed mid-run', async () => {
    const killStage = `${stage}-kill`;
    const victim = tiers.samplers[1]!;
    let killedAt = 0;
    const run = await sendTraces(new TraceGenerator(1515), 600, {
      endpoint: tiers.lbHttp,
      headers: { authorization: `Bearer ${token}` },
      stage: killStage,
      splitByService: true,
      tracesPerRequest: 10,
      concurrency: 2,
      pauseMs: 40,
      beforeRequest: async (made) => {
        if (!killedAt && made >= 200) {
          await victim.stop('SIGKILL');
          killedAt = Date.now();
        }
        return true;
      },
    });
    expect(killedAt).toBeGreaterThan(0);
    const after = run.traces.filter((t) => t.sentAt! > killedAt);
    const before = run.traces.filter((t) => t.sentAt! <= killedAt);

    // While sampling-b is down, sampling-a keeps deciding: the must-keep traces sent after the kill that it owns
    // reach Jaeger complete.
    const afterKeep = after.filter(mustKeep);
    const flowing = await pollUntil(
      'must-keep traces sent after the kill, complete through sampling-a',
      async () => {
        const found = (await look(afterKeep)).filter((s) => complete(s) && s.instances.has('sampling-a'));
        return found.length >= afterKeep.length / 4 ? found : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    );
    expect(flowing.length).toBeGreaterThan(0);
    const flowingDuringOutage = flowing.length;

    // Bring sampling-b back (same ports, same queue folder): what the load-balancing tier held for it is delivered.
    const restarted = samplingCollector(options, 1);
    await restarted.start();
    tiers.samplers[1] = restarted;
    const restartedAt = Date.now();
    // What the load-balancing tier held for sampling-b (its retries outlast the outage) reaches it once it is back:
    // every must-keep trace sent after the kill arrives complete. Then the tiers settle, so that the report below
    // counts what the outage really cost (the traces sampling-b held undecided when it died).
    await pollUntil(
      `all ${afterKeep.length} must-keep traces sent after the kill complete in Jaeger`,
      async () => ((await look(afterKeep)).every(complete) ? true : undefined),
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    await settled();

    const report = (label: string, traces: GeneratedTrace[]) => {
      return look(traces.filter(mustKeep)).then((list) => {
        const kept = list.filter(complete).length;
        const partial = list.filter((s) => s.spanIds.size > 0 && !complete(s)).length;
        const lost = list.filter((s) => s.spanIds.size === 0).length;
        return { label, mustKeep: list.length, kept, partial, lost };
      });
    };
    const rows = [await report('sent before the kill', before), await report('sent after the kill', after)];
    console.log(
      `tiers, sampling-b killed (SIGKILL) after ${before.length} of ${run.traces.length} traces, restarted ` +
        `${((restartedAt - killedAt) / 1000).toFixed(0)} s later; ${run.failedRequests} requests refused by the ` +
        `load-balancing tier; ${flowingDuringOutage} must-keep traces reached Jaeger through sampling-a during the ` +
        `outage. Error/slow/ETL traces:\n` +
        rows
          .map(
            (r) => `  ${r.label}: ${r.mustKeep} → ${r.kept} complete, ${r.partial} partial, ${r.lost} lost`,
          )
          .join('\n'),
    );
    // The load-balancing tier accepted everything (its queues absorb the outage).
    expect(run.failedRequests).toBe(0);
  }, 240_000);
});

/** tail_sampling's count of decisions (label `sampled`), and of traces awaiting one. */
const KEPT = 'otelcol_processor_tail_sampling_global_count_traces_sampled';
const AWAITING = 'otelcol_processor_tail_sampling_sampling_traces_on_memory';

/** The sum of a metric (with or without the `_total` suffix) over Collectors' own metrics endpoints. */
async function metricSum(
  urls: string[],
  metric: string,
  keep: (labels: Record<string, string>) => boolean = () => true,
): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const text = await (await fetch(url)).text();
    for (const sample of [...promSamples(text, metric), ...promSamples(text, `${metric}_total`)])
      if (keep(sample.labels)) total += sample.value;
  }
  return total;
}

/**
 * Waits until the tiers hold nothing: every sampling Collector has decided every trace it holds, and no exporter
 * queue (the load-balancing tier's towards the samplers, the samplers' towards Jaeger) holds a batch.
 */
async function settled(): Promise<void> {
  await pollUntil(
    'every trace decided and every export queue of the tiers empty',
    async () => {
      const awaiting = await metricSum(tiers.ownMetrics.slice(1), AWAITING);
      const queued = await metricSum(tiers.ownMetrics, 'otelcol_exporter_queue_size');
      return awaiting === 0 && queued === 0 ? true : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1000 },
  );
}

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
