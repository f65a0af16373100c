/**
 * JSON schemas for Grafana dashboard JSON, generated at test time from the TypeScript types of the foundation SDK (a
 * pinned devDependency) by ts-json-schema-generator, and applied with ajv. Objects allow no unknown properties, so a
 * misspelled field fails as surely as a wrong type. A few constraints of Grafana's CUE schema that TypeScript cannot
 * express (integers, grid bounds, a non-empty panel type) are added back by REFINEMENTS.
 */
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { createGenerator, type Config, type Definition } from 'ts-json-schema-generator';
import { REPO_ROOT } from '../../../common/paths.ts';

/** Panel type → the generated types of its `options` and `fieldConfig.defaults.custom` (absent: takes none). */
const PANEL_TYPES: Record<string, { options: string; custom?: string }> = {
  timeseries: { options: 'TimeseriesOptions', custom: 'TimeseriesFieldConfig' },
  stat: { options: 'StatOptions' },
  table: { options: 'TableOptions', custom: 'TableFieldConfig' },
  bargauge: { options: 'BargaugeOptions' },
  gauge: { options: 'GaugeOptions' },
  text: { options: 'TextOptions' },
  heatmap: { options: 'HeatmapOptions', custom: 'HeatmapFieldConfig' },
  histogram: { options: 'HistogramOptions', custom: 'HistogramFieldConfig' },
  piechart: { options: 'PiechartOptions', custom: 'PiechartFieldConfig' },
};

/** Query schemas by datasource type. */
const QUERY_TYPES: Record<string, string> = { prometheus: 'PrometheusQuery' };

const integer: Definition = { type: 'integer' };
/** Constraints from Grafana's dashboard kind (CUE) that the TypeScript types lose: definition → property → schema. */
const REFINEMENTS: Record<string, Record<string, Definition>> = {
  Dashboard: {
    id: { anyOf: [integer, { type: 'null' }] },
    revision: integer,
    schemaVersion: integer,
    version: integer,
    fiscalYearStartMonth: { type: 'integer', minimum: 0, exclusiveMaximum: 12 },
  },
  Panel: { type: { type: 'string', minLength: 1 }, id: integer, options: { type: 'object' } },
  RowPanel: { id: integer },
  GridPos: {
    h: { type: 'integer', exclusiveMinimum: 0 },
    w: { type: 'integer', exclusiveMinimum: 0, maximum: 24 },
    x: { type: 'integer', minimum: 0, exclusiveMaximum: 24 },
    y: { type: 'integer', minimum: 0 },
  },
  VariableModel: { auto_count: { type: 'integer', exclusiveMinimum: 0 } },
};

export interface DashboardSchemas {
  /** The dashboard document (panels' options and targets are `any` there: checked by the three below). */
  dashboard: ValidateFunction;
  options: (panelType: string) => ValidateFunction | undefined;
  custom: (panelType: string) => ValidateFunction | undefined;
  query: (datasourceType: string) => ValidateFunction | undefined;
}

/** Generates every schema once (a TypeScript program over the SDK's declarations: a few seconds). */
export function generateDashboardSchemas(): DashboardSchemas {
  const config: Config = {
    path: join(REPO_ROOT, 'test', 'deploy', 'grafana', 'grafana-types.ts'),
    tsconfig: join(REPO_ROOT, 'tsconfig.json'),
    skipTypeCheck: true,
    // Query types carry a marker method; it is not part of the JSON.
    functions: 'hide',
    jsDoc: 'none',
  };
  const generator = createGenerator(config);
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  const compile = (type: string) => {
    const schema = generator.createSchema(type);
    const definitions = schema.definitions ?? {};
    for (const [name, properties] of Object.entries(REFINEMENTS)) {
      const definition = definitions[name];
      if (typeof definition !== 'object' || !definition.properties) continue;
      for (const [property, refined] of Object.entries(properties)) {
        if (!(property in definition.properties))
          throw new Error(`${name}.${property} is gone from the SDK's types`);
        definition.properties[property] = refined;
      }
    }
    // A panel's targets are checked one by one against their datasource's query schema (`query` below).
    if (type === 'Dashboard') definitions['Dataquery'] = { type: 'object' };
    return ajv.compile(schema);
  };
  const cache = new Map<string, ValidateFunction>();
  const cached = (type: string | undefined) => {
    if (!type) return undefined;
    if (!cache.has(type)) cache.set(type, compile(type));
    return cache.get(type);
  };
  return {
    dashboard: cached('Dashboard')!,
    options: (panelType) => cached(PANEL_TYPES[panelType]?.options),
    custom: (panelType) => cached(PANEL_TYPES[panelType]?.custom),
    query: (datasourceType) => cached(QUERY_TYPES[datasourceType]),
  };
}

/** `validate`'s errors as `<path> <message>` lines; empty when the data is valid. */
export function schemaErrors(validate: ValidateFunction, data: unknown): string[] {
  return validate(data)
    ? []
    : (validate.errors ?? []).map((e) => {
        const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
        return `${e.instancePath || '/'} ${e.message}${extra}`;
      });
}

interface PanelJson {
  type: string;
  title?: string;
  datasource?: { type?: string };
  options?: unknown;
  fieldConfig?: { defaults?: { custom?: unknown } };
  targets?: { datasource?: { type?: string } }[];
  panels?: PanelJson[];
}

/** Every schema error of a dashboard: the document, then each panel's options, custom field config and queries. */
export function dashboardErrors(schemas: DashboardSchemas, dashboard: unknown): string[] {
  const errors = schemaErrors(schemas.dashboard, dashboard);
  const panels = ((dashboard as { panels?: PanelJson[] }).panels ?? []).flatMap((p) =>
    p.type === 'row' ? (p.panels ?? []) : [p],
  );
  for (const panel of panels) {
    const where = `panel "${panel.title ?? panel.type}"`;
    const options = schemas.options(panel.type);
    if (!options) {
      errors.push(`${where}: no schema for panel type ${panel.type}`);
      continue;
    }
    errors.push(...schemaErrors(options, panel.options ?? {}).map((e) => `${where} options${e}`));
    const custom = panel.fieldConfig?.defaults?.custom;
    if (custom !== undefined) {
      const validate = schemas.custom(panel.type);
      if (!validate) errors.push(`${where}: panel type ${panel.type} takes no fieldConfig.defaults.custom`);
      else errors.push(...schemaErrors(validate, custom).map((e) => `${where} custom${e}`));
    }
    for (const [index, target] of (panel.targets ?? []).entries()) {
      const type = target.datasource?.type ?? panel.datasource?.type ?? '(none)';
      const validate = schemas.query(type);
      if (!validate) errors.push(`${where} target ${index}: no query schema for datasource type ${type}`);
      else errors.push(...schemaErrors(validate, target).map((e) => `${where} target ${index}${e}`));
    }
  }
  return errors;
}
