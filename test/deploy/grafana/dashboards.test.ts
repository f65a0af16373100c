/**
 * The dashboards as code: the committed JSON is exactly what the code emits, every dashboard, panel and query
 * passes Grafana's own JSON schemas (grafana-foundation-sdk's jsonschema/, draft-07), and every datasource a
 * dashboard names is one the provisioning creates.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../common/paths.ts';
import { dashboardJson, DASHBOARDS } from '../../../deploy/grafana/dashboards/index.ts';

const SCHEMAS = join(REPO_ROOT, '..', 'shared', 'grafana-schema');
const grafana = join(REPO_ROOT, 'deploy', 'grafana');
const jsonDir = join(grafana, 'dashboards', 'json');

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const schema = (name: string) =>
  JSON.parse(readFileSync(join(SCHEMAS, `${name}.jsonschema.json`), 'utf8')) as object;
const validators = new Map<string, ValidateFunction>();
/** A validator for one definition of a schema file (panel schemas have no root). */
function validator(file: string, definition?: string): ValidateFunction {
  const key = `${file}#${definition ?? ''}`;
  if (!validators.has(key)) {
    const document = schema(file) as { definitions?: object };
    const root = definition ? { ...document, $ref: `#/definitions/${definition}` } : document;
    validators.set(key, ajv.compile(root));
  }
  return validators.get(key)!;
}

function check(validate: ValidateFunction, data: unknown): string[] {
  return validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

interface PanelJson {
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  options?: unknown;
  fieldConfig?: { defaults?: { custom?: unknown } };
  targets?: { datasource?: { uid?: string } }[];
}
interface DashboardJson {
  uid: string;
  panels: PanelJson[];
  templating: { list: { name: string; datasource?: { uid?: string } }[] };
}

const committed = (file: string) => JSON.parse(readFileSync(join(jsonDir, file), 'utf8')) as DashboardJson;
const PANEL_SCHEMAS = new Set([
  'timeseries',
  'stat',
  'table',
  'bargauge',
  'gauge',
  'text',
  'heatmap',
  'histogram',
  'piechart',
]);

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
      const errors = check(validator('dashboard'), dashboard);
      for (const panel of dashboard.panels) {
        if (panel.type === 'row') continue;
        expect(PANEL_SCHEMAS.has(panel.type), `a schema for panel type ${panel.type}`).toBe(true);
        const where = `panel "${panel.title}"`;
        errors.push(
          ...check(validator(panel.type, 'Options'), panel.options ?? {}).map((e) => `${where} options${e}`),
        );
        const custom = panel.fieldConfig?.defaults?.custom;
        if (custom !== undefined) {
          errors.push(
            ...check(validator(panel.type, 'FieldConfig'), custom).map((e) => `${where} custom${e}`),
          );
        }
        for (const target of panel.targets ?? []) {
          errors.push(...check(validator('prometheus'), target).map((e) => `${where} target${e}`));
        }
      }
      expect(errors).toEqual([]);
    },
  );

  it('reject a broken dashboard, naming the path (the schemas are really applied)', () => {
    const broken = {
      ...committed('services.json'),
      schemaVersion: 'forty-two',
      panels: [{ type: 'timeseries', gridPos: 'top' }],
    };
    const errors = check(validator('dashboard'), broken).join('\n');
    expect(errors).toContain('/schemaVersion');
    expect(errors).toContain('/panels/0/gridPos');
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
