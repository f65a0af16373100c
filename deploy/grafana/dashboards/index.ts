/** Every dashboard Observatory ships, with the file name `emit.ts` writes it to under json/. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { format, resolveConfig } from 'prettier';
import { businessEventsDashboard } from './business-events.ts';
import { collectorDashboard } from './collector.ts';
import { etlFleetDashboard } from './etl-fleet.ts';
import { servicesDashboard } from './services.ts';

export interface DashboardSource {
  file: string;
  build: () => Dashboard;
}

export const DASHBOARDS: readonly DashboardSource[] = [
  { file: 'services.json', build: servicesDashboard },
  { file: 'etl-fleet.json', build: etlFleetDashboard },
  { file: 'business-events.json', build: businessEventsDashboard },
  { file: 'collector.json', build: collectorDashboard },
];

/** The JSON exactly as committed: formatted by the repository's prettier config, so `npm run lint` agrees. */
export async function dashboardJson(source: DashboardSource, path: string): Promise<string> {
  const options = (await resolveConfig(path)) ?? {};
  return format(JSON.stringify(source.build()), { ...options, filepath: path });
}
