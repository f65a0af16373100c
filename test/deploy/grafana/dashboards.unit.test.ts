/**
 * The dashboards as code: the committed JSON is exactly what the code emits; every dashboard, panel and query passes
 * JSON schemas generated from the Grafana foundation SDK's types (no unknown field, no wrong type: see
 * ./dashboard-schema.ts); and every datasource a dashboard names is one the provisioning creates. Needs no stack.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../common/paths.ts';
import { dashboardJson, DASHBOARDS } from '../../../deploy/grafana/dashboards/index.ts';
import { dashboardErrors, generateDashboardSchemas, type DashboardSchemas } from './dashboard-schema.ts';

const grafana = join(REPO_ROOT, 'deploy', 'grafana');
const jsonDir = join(grafana, 'dashboards', 'json');

interface PanelJson {
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: { datasource?: { uid?: string } }[];
}
interface DashboardJson {
  uid: string;
  schemaVersion: number;
  panels: PanelJson[];
  templating: { list: { name: string; datasource?: { uid?: string } }[] };
}

const committed = (file: string) => JSON.parse(readFileSync(join(jsonDir, file), 'utf8')) as DashboardJson;

let schemas: DashboardSchemas;
beforeAll(() => {
  schemas = generateDashboardSchemas();
}, 60_000);

describe('Grafana dashboards', () => {
  it.each(DASHBOARDS.map((d) => d.file))('%s is committed exactly as the code emits it', async (file) => {
    const source = DASHBOARDS.find((d) => d.file === file)!;
    const path = join(jsonDir, file);
    expect(readFileSync(path, 'utf8'), 'run: node deploy/grafana/dashboards/emit.ts').toBe(
      await dashboardJson(source, path),
    );
  });

  it.each(DASHBOARDS.map((d) => d.file))(
    '%s validates against the dashboard, panel and Prometheus query schemas',
    (file) => {
      const dashboard = committed(file);
      expect(dashboard.schemaVersion, 'the schema version of the SDK types the schemas come from').toBe(
        defaultDashboard().schemaVersion,
      );
      expect(dashboardErrors(schemas, dashboard)).toEqual([]);
    },
  );

  it('reject a broken dashboard, naming the path (the schemas are really applied)', () => {
    const broken = {
      ...committed('services.json'),
      schemaVersion: 'forty-two',
      panels: [{ type: 'timeseries', gridPos: 'top' }],
    };
    const errors = dashboardErrors(schemas, broken).join('\n');
    expect(errors).toContain('/schemaVersion');
    expect(errors).toContain('/panels/0/gridPos');
  });

  type Edit = (panel: Record<string, unknown>) => void;
  /** Sets (or, given undefined, deletes) the value at a dotted path of the panel. */
  const set =
    (path: string, value: unknown): Edit =>
    (panel) => {
      const keys = path.split('.');
      const last = keys.pop()!;
      const parent = keys.reduce((o, key) => o[key] as Record<string, unknown>, panel);
      if (value === undefined) delete parent[last];
      else parent[last] = value;
    };
  const rename =
    (from: string, to: string): Edit =>
    (panel) => {
      panel[to] = panel[from];
      delete panel[from];
    };

  it.each<[string, Edit, string]>([
    [
      'a misspelled panel field',
      rename('gridPos', 'gridpos'),
      'must NOT have additional properties (gridpos)',
    ],
    ['a wrong panel field type', set('gridPos.w', '12'), '/gridPos/w must be integer'],
    ['a grid position off the 24-column grid', set('gridPos.w', 25), '/gridPos/w must be <= 24'],
    ['a misspelled option', set('options.legnd', {}), 'options/ must NOT have additional properties (legnd)'],
    [
      'an option value Grafana does not know',
      set('options.tooltip.mode', 'several'),
      'options/tooltip/mode must be equal to one of the allowed values',
    ],
    [
      'a misspelled custom field config',
      set('fieldConfig.defaults.custom.fillOpacty', 10),
      'custom/ must NOT have additional properties (fillOpacty)',
    ],
    [
      'a wrong custom field config type',
      set('fieldConfig.defaults.custom.fillOpacity', 'ten'),
      'custom/fillOpacity must be number',
    ],
    [
      'a misspelled query field',
      set('targets.0.legendFromat', 'x'),
      'target 0/ must NOT have additional properties (legendFromat)',
    ],
    [
      'a query without its expression',
      set('targets.0.expr', undefined),
      "target 0/ must have required property 'expr'",
    ],
    ['an unknown panel type', set('type', 'timeserie'), 'no schema for panel type timeserie'],
  ])('reject a copy of a dashboard with %s', (_, edit, expected) => {
    const dashboard = committed('services.json');
    expect(dashboardErrors(schemas, dashboard)).toEqual([]);
    const index = dashboard.panels.findIndex((p) => p.type === 'timeseries');
    edit(dashboard.panels[index] as unknown as Record<string, unknown>);
    const errors = dashboardErrors(schemas, dashboard);
    expect(errors.join('\n')).toContain(expected);
    if (expected.startsWith('/gridPos') || expected.includes('(gridpos)')) {
      expect(errors.join('\n')).toContain(`/panels/${index}`);
    }
  });

  it('use only datasource UIDs that the provisioning creates', () => {
    const provisioned = parse(
      readFileSync(join(grafana, 'provisioning', 'datasources', 'datasources.yaml'), 'utf8'),
    ) as {
      datasources: { uid: string; type: string; jsonData?: Record<string, unknown> }[];
    };
    const uids = new Set(provisioned.datasources.map((d) => d.uid));
    expect([...uids].sort()).toEqual(['observatory-jaeger', 'observatory-prometheus']);
    const used = new Set<string>();
    for (const { file } of DASHBOARDS) {
      const dashboard = committed(file);
      for (const panel of dashboard.panels) {
        if (panel.datasource?.uid) used.add(panel.datasource.uid);
        for (const target of panel.targets ?? []) if (target.datasource?.uid) used.add(target.datasource.uid);
      }
      for (const variable of dashboard.templating.list)
        if (variable.datasource?.uid) used.add(variable.datasource.uid);
    }
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((uid) => !uids.has(uid))).toEqual([]);
    // Cross-links between the two point at provisioned UIDs too.
    const text = JSON.stringify(provisioned.datasources.map((d) => d.jsonData));
    for (const uid of text.match(/"datasourceUid":"([^"]+)"/g) ?? []) {
      expect(uids.has(uid.split('"')[3]!)).toBe(true);
    }
  });

  it('have unique UIDs and are all loaded by the file provider from one folder', () => {
    const uids = DASHBOARDS.map((d) => committed(d.file).uid);
    expect(new Set(uids).size).toBe(uids.length);
    const provider = parse(
      readFileSync(join(grafana, 'provisioning', 'dashboards', 'dashboards.yaml'), 'utf8'),
    ) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(provider.providers).toHaveLength(1);
    expect(provider.providers[0]!.type).toBe('file');
  });
});
