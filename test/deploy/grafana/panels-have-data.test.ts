/**
 * No dashboard shows "No data": every panel query and every variable query, substituted as Grafana would, returns
 * at least one series from the real Prometheus. The Services and Collector dashboards get their traffic here, from
 * an instrumented app; the ETL and Business-events dashboards from the demo platform under load, jobs included.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { businessEventsDashboard } from '../../../deploy/grafana/dashboards/business-events.ts';
import { collectorDashboard } from '../../../deploy/grafana/dashboards/collector.ts';
import { etlFleetDashboard } from '../../../deploy/grafana/dashboards/etl-fleet.ts';
import { servicesDashboard } from '../../../deploy/grafana/dashboards/services.ts';
import { pollUntil } from '../../support/poll.ts';
import { spawnNode, type RunningApp } from '../../support/spawn.ts';
import { runLoad } from '../../../demo/load-generator.ts';
import { startPlatform, type Platform } from '../../../demo/platform.ts';
import type { Dashboard, Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { expectEveryPanelToHaveData } from './panel-queries.ts';

const apps: RunningApp[] = [];
const platforms: Platform[] = [];
afterAll(async () => {
  for (const app of apps) await app.stop();
  for (const platform of platforms) await platform.stop();
});

/** An instrumented Express app that serves a few requests, so span metrics and Collector metrics move. */
async function traffic(service: string, requests = 20): Promise<void> {
  const app = spawnNode(['--require', './instrumentation', 'test/instrumentation/fixtures/cjs-app.cjs'], {
    OTEL_SERVICE_NAME: service,
    OBSERVATORY_STAGE: 'test',
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
    OTEL_BSP_SCHEDULE_DELAY: '200',
  });
  apps.push(app);
  const [, port] = await app.waitForLine(/^LISTENING (\d+)$/);
  for (let i = 0; i < requests; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/scenes/${i}`);
    await response.arrayBuffer();
  }
}

/**
 * The demo platform under a short load with jobs in the mix, plus one job with a flaky and a poison chunk: the ETL
 * and business-event metrics (jobs, chunks by every outcome, cost, events by name) all move.
 */
async function demoTraffic(): Promise<void> {
  const platform = await startPlatform({
    freePorts: true,
    env: {
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OBSERVATORY_ETL_ALLOW_FAULTS: 'true',
      OBSERVATORY_ETL_RETRY_BASE_MS: '20',
    },
  });
  platforms.push(platform);
  await runLoad({
    url: platform.urls.gateway,
    rate: 10,
    durationSeconds: 6,
    mix: { search: 50, download: 20, signup: 10, job: 20 },
    faultRate: 0,
  });
  const response = await fetch(`${platform.urls.etl}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      bbox: [0, 40, 5, 45],
      from: '2026-06-01',
      to: '2026-06-03',
      fault: { chunks: [0, 1], kind: 'throw', attempts: 3 },
    }),
  });
  const { id } = (await response.json()) as { id: string };
  await pollUntil(`job ${id} to finish`, async () => {
    const job = (await (await fetch(`${platform.urls.etl}/jobs/${id}`)).json()) as { status: string };
    return job.status === 'running' || job.status === 'queued' ? undefined : job;
  });
}

describe('Grafana dashboards against the real Prometheus', () => {
  it('Services: every panel has data for a service that just served requests', async () => {
    const service = `grafana-test-${randomUUID().slice(0, 8)}`;
    await traffic(service);
    // Polled: rate() needs two scrapes of the new span metrics inside its window.
    await expectEveryPanelToHaveData(servicesDashboard(), { service, stage: 'test' });
  });

  it('Services: the `All` choice of both variables has data too', async () => {
    await expectEveryPanelToHaveData(servicesDashboard(), { service: '$__all', stage: '$__all' });
  });

  it('Collector: accepted, refused, sent, failed and queue panels all have data', async () => {
    await traffic(`grafana-collector-${randomUUID().slice(0, 8)}`, 5);
    await expectEveryPanelToHaveData(collectorDashboard(), { job: '$__all' });
  });

  it('ETL fleet and Business events: every panel has data after demo traffic with jobs', async () => {
    await demoTraffic();
    await expectEveryPanelToHaveData(etlFleetDashboard(), { kind: '$__all' });
    await expectEveryPanelToHaveData(businessEventsDashboard(), { event: '$__all' });
  }, 180_000);
});

describe('The panel-data check against the real Prometheus', () => {
  it('fails, naming the panel, when a panel’s query returns no series', async () => {
    const dashboard = JSON.parse(JSON.stringify(servicesDashboard())) as Dashboard;
    const panel = dashboard.panels!.find((p) => p.type !== 'row') as Panel;
    (panel.targets![0] as unknown as { expr: string }).expr = `sum(up{job="no-such-job-${randomUUID()}"})`;
    await expect(
      expectEveryPanelToHaveData(dashboard, { service: 'gateway', stage: 'test' }, 4_000),
    ).rejects.toThrow(new RegExp(`${panel.title} \\[A\\]: no series`));
  });
});
