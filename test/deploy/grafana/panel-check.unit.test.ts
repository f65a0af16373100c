/**
 * The "every panel has data" check must be able to fail: a dashboard it cannot really check — a panel without a
 * Prometheus query, a query naming a variable with no value, no query at all — is rejected at once, before any
 * query runs. (An empty panel against the real Prometheus is in panels-have-data.test.ts.)
 */
import type { Dashboard, Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { describe, expect, it } from 'vitest';
import { servicesDashboard } from '../../../deploy/grafana/dashboards/services.ts';
import { expectEveryPanelToHaveData, structuralProblems } from './panel-queries.ts';

const VARIABLES = { service: 'gateway', stage: 'test' };

/** A copy of the Services dashboard with its first non-row panel changed by `change`. */
function withFirstPanel(change: (panel: Panel) => void): Dashboard {
  const dashboard = JSON.parse(JSON.stringify(servicesDashboard())) as Dashboard;
  change(dashboard.panels!.find((p) => p.type !== 'row') as Panel);
  return dashboard;
}

describe('The panel-data check', () => {
  it('finds nothing wrong with the Services dashboard itself', () => {
    expect(structuralProblems(servicesDashboard(), VARIABLES)).toEqual([]);
  });

  it('rejects a panel without any query', async () => {
    const dashboard = withFirstPanel((panel) => (panel.targets = []));
    expect(structuralProblems(dashboard, VARIABLES)).toEqual([
      expect.stringMatching(/has no Prometheus query$/),
    ]);
    await expect(expectEveryPanelToHaveData(dashboard, VARIABLES)).rejects.toThrow(/has no Prometheus query/);
  });

  it('rejects a panel whose only query is not a Prometheus one', async () => {
    const dashboard = withFirstPanel((panel) => {
      panel.datasource = { type: 'loki', uid: 'logs' };
      for (const target of panel.targets ?? [])
        (target as { datasource?: object }).datasource = { type: 'loki', uid: 'logs' };
    });
    await expect(expectEveryPanelToHaveData(dashboard, VARIABLES)).rejects.toThrow(/has no Prometheus query/);
  });

  it('rejects a query naming a variable that has no value', async () => {
    const dashboard = withFirstPanel((panel) => {
      (panel.targets![0] as unknown as { expr: string }).expr = 'sum(up{job=~"$cluster"})';
    });
    await expect(expectEveryPanelToHaveData(dashboard, VARIABLES)).rejects.toThrow(
      /no value for variable \$cluster/,
    );
  });

  it('rejects a dashboard with no query at all', async () => {
    const dashboard = {
      ...(JSON.parse(JSON.stringify(servicesDashboard())) as Dashboard),
      panels: [],
      templating: { list: [] },
    };
    await expect(expectEveryPanelToHaveData(dashboard, {})).rejects.toThrow(/has no query at all/);
  });
});
