/**
 * No self-noise: the stack's own components do not show up among the application's services. After the demo has
 * sent traffic, the console has been used (services, traces list, a trace, the service map, dashboards, the
 * Prometheus proxy) and Jaeger queried directly, so that Jaeger and the console have served requests: the span
 * metrics' services, the console's services, its traces list and its service map, and `observatory trace --last`
 * show the demo's services and none of the stack's; and Jaeger has no trace of its own from this run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES, traceCommand } from '../../cli/trace/command.ts';
import { startUi, uiConfig, type UiServer } from '../../console/index.ts';
import { runLoad } from '../../demo/load-generator.ts';
import { startPlatform, type Platform } from '../../demo/platform.ts';
import { COMPONENT_ORDER } from '../../stack/components.ts';
import type { TraceListing } from '../../trace/index.ts';
import { promQuery, stackEndpoints } from '../support/backends.ts';
import { pollUntil } from '../support/poll.ts';

/** Every name the stack's own telemetry has had or could take: its components, the Collector's and the console's. */
const STACK_NAMES = new Set<string>([
  ...COMPONENT_ORDER,
  'otelcol-observatory',
  'otelcol',
  'observatory',
  'console',
]);
const DEMO_SERVICES = ['gateway', 'catalog', 'downloads', 'users'];
/**
 * How long Jaeger's own traces took to leave it when it sent them: the OpenTelemetry Go SDK's batch span processor
 * exports every 5 s. Twice that after the last request it served, anything it sent has reached the stack.
 */
const SELF_EXPORT_MS = 2 * 5_000;

let platform: Platform;
let ui: UiServer;
const started = Date.now();
let stackUsedAt = 0;

const stackNames = (services: string[]) => services.filter((s) => STACK_NAMES.has(s));

async function json<T>(url: string): Promise<T> {
  const response = await fetch(url);
  expect(response.status, `${url}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as T;
}

beforeAll(async () => {
  platform = await startPlatform({
    freePorts: true,
    env: { OTEL_BSP_SCHEDULE_DELAY: '500', OTEL_METRIC_EXPORT_INTERVAL: '1000' },
  });
  ui = await startUi({ ...uiConfig(), port: 0 });
  await runLoad({
    url: platform.urls.gateway,
    rate: 5,
    durationSeconds: 4,
    mix: { search: 60, download: 20, signup: 20, job: 0 },
    faultRate: 0,
  });
  // The demo's traces are in Jaeger before the stack is used, so the console has something to answer with.
  await pollUntil('the demo services in Jaeger', async () => {
    const { services } = await json<{ services: string[] }>(`${ui.url}/api/services`);
    return DEMO_SERVICES.every((s) => services.includes(s)) ? true : undefined;
  });
  // Use the console and Jaeger the way a person looking at the demo does.
  const { jaeger } = stackEndpoints();
  const listed = await json<TraceListing[]>(`${ui.url}/api/traces?lookback=15m&limit=20`);
  await json(`${ui.url}/api/traces/${listed[0]!.trace_id}`);
  await json(`${ui.url}/api/service-map`);
  await json(`${ui.url}/api/dashboards`);
  await json(`${ui.url}/api/prometheus/api/v1/query?query=up`);
  await json(`${jaeger}/api/services`);
  await json(`${jaeger}/api/traces?service=gateway&lookback=15m&limit=20`);
  await json(`${jaeger}/api/dependencies?endTs=${Date.now()}&lookback=900000`);
  stackUsedAt = Date.now();
  // A later demo request through the whole pipeline, seen in the span metrics, once Jaeger's own export (if any)
  // had its time: whatever the stack sent about the requests above has arrived by then.
  await pollUntil(
    'a demo request after the stack was used, in the span metrics',
    async () => {
      await fetch(`${platform.urls.gateway}/api/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-01`);
      if (Date.now() - stackUsedAt < SELF_EXPORT_MS) return undefined;
      return (await spanMetricServices()).includes('gateway') ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}, 240_000);

afterAll(async () => {
  await ui?.close();
  await platform?.stop();
});

/**
 * The services with span-metric calls counted since this file started: a series that grew in the window, or that is
 * new in it (`increase` leaves out a series' first sample, so a service seen in one flush only would be missed).
 * Series of an earlier run that no longer grow do not count.
 */
async function spanMetricServices(): Promise<string[]> {
  const window = `${Math.ceil((Date.now() - started) / 1000) + 5}s`;
  const calls = 'traces_span_metrics_calls_total';
  const samples = await promQuery(
    `group by (service_name) ((increase(${calls}[${window}]) > 0) or (${calls} unless ${calls} offset ${window}))`,
  );
  return samples.map((s) => s.metric.service_name!).sort();
}

describe('the stack’s own telemetry', () => {
  it('is not among the services of the span metrics', async () => {
    const services = await spanMetricServices();
    expect(services).toEqual(expect.arrayContaining(DEMO_SERVICES));
    expect(stackNames(services)).toEqual([]);
  });

  it('is not among the console’s services', async () => {
    const { services } = await json<{ services: string[] }>(`${ui.url}/api/services`);
    expect(services).toEqual(expect.arrayContaining(DEMO_SERVICES));
    expect(stackNames(services)).toEqual([]);
  });

  it('is not in the console’s traces list', async () => {
    const listed = await json<TraceListing[]>(`${ui.url}/api/traces?lookback=15m&limit=100`);
    const roots = [...new Set(listed.map((t) => t.root_service))];
    expect(roots).toContain('gateway');
    expect(stackNames(roots)).toEqual([]);
  });

  it('is not on the console’s service map', async () => {
    const map = await json<{ nodes: { service: string }[]; edges: { from: string; to: string }[] }>(
      `${ui.url}/api/service-map`,
    );
    const nodes = map.nodes.map((n) => n.service);
    expect(nodes).toEqual(expect.arrayContaining(DEMO_SERVICES));
    expect(stackNames([...nodes, ...map.edges.flatMap((e) => [e.from, e.to])])).toEqual([]);
  });

  it('is not in `observatory trace --last`', async () => {
    let out = '';
    let err = '';
    const code = await traceCommand(['--last', '--limit', '100', '--json'], {
      out: (text) => (out += text),
      err: (text) => (err += text),
      env: process.env,
      isTTY: false,
      columns: 220,
    });
    expect(code, err).toBe(EXIT_CODES.ok);
    const roots = [...new Set((JSON.parse(out) as TraceListing[]).map((t) => t.root_service))];
    expect(roots).toContain('gateway');
    expect(stackNames(roots)).toEqual([]);
  });

  it('is not in Jaeger: no trace of a stack service since this file started', async () => {
    const { jaeger } = stackEndpoints();
    for (const service of STACK_NAMES) {
      const body = await json<{ data: unknown[] | null }>(
        `${jaeger}/api/traces?service=${service}&start=${started * 1000}&end=${Date.now() * 1000}&limit=5`,
      );
      expect(body.data ?? [], service).toEqual([]);
    }
  });
});
