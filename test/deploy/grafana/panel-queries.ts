/**
 * Runs a dashboard's queries the way Grafana would: template variables and interval macros substituted, each panel
 * target sent to the real Prometheus. A dashboard that shows "No data" fails here instead of in front of a user.
 */
import type { Dashboard, Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { promQuery } from '../../support/backends.ts';

/** A variable's value: one value, several (multi-select) or `$__all` (the variable's allValue). */
export type VariableValues = Record<string, string | string[]>;

export interface PanelQueryResult {
  panel: string;
  refId: string;
  expr: string;
  series: number;
  error?: string;
}

/** What Grafana substitutes for its interval macros, for a 15-minute range and a 5 s scrape interval. */
const MACROS: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '30s',
  __interval_ms: '30000',
  __range: '15m',
  __range_s: '900',
  __range_ms: '900000',
};

/** Regex metacharacters escaped inside a PromQL string literal, hence two backslashes. */
const escapeRegex = (value: string) => value.replace(/[\\^$.*+?()[\]{}|]/g, '\\\\$&');

/** Substitutes `$name`, `${name}` and `[[name]]` as Grafana's Prometheus datasource does (regex-escaped values). */
export function interpolate(expr: string, variables: VariableValues, dashboard: Dashboard): string {
  const allValues = new Map(
    (dashboard.templating.list ?? []).map((v) => [v.name, v.allValue ?? '.*'] as const),
  );
  return expr.replace(/\$\{(\w+)\}|\[\[(\w+)\]\]|\$(\w+)/g, (match, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    if (name in MACROS) return MACROS[name]!;
    const value = variables[name];
    if (value === undefined) throw new Error(`no value for variable $${name} in ${expr}`);
    if (value === '$__all') return allValues.get(name) ?? '.*';
    if (Array.isArray(value)) return `(${value.map(escapeRegex).join('|')})`;
    return escapeRegex(value);
  });
}

function panels(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).filter((p): p is Panel => p.type !== 'row');
}

/** Every Prometheus target of every panel, substituted and run; `series` is how many series it returned. */
export async function panelQueries(
  dashboard: Dashboard,
  variables: VariableValues,
): Promise<PanelQueryResult[]> {
  const results: PanelQueryResult[] = [];
  for (const panel of panels(dashboard)) {
    for (const target of panel.targets ?? []) {
      const { expr: raw, refId } = target as { expr?: string; refId?: string };
      if (!raw) continue;
      const expr = interpolate(raw, variables, dashboard);
      const result: PanelQueryResult = {
        panel: panel.title ?? '?',
        refId: refId ?? '?',
        expr,
        series: 0,
      };
      try {
        result.series = (await promQuery(expr)).length;
      } catch (error) {
        result.error = error instanceof Error ? error.message : String(error);
      }
      results.push(result);
    }
  }
  return results;
}

/** Each `label_values(selector, label)` variable query, run as `count by (label) (selector)`. */
export async function variableQueries(
  dashboard: Dashboard,
  variables: VariableValues,
): Promise<PanelQueryResult[]> {
  const results: PanelQueryResult[] = [];
  for (const variable of dashboard.templating.list ?? []) {
    const match = /^label_values\((.+),\s*(\w+)\)$/.exec(String(variable.query ?? ''));
    if (!match) continue;
    const expr = `count by (${match[2]}) (${interpolate(match[1]!, variables, dashboard)})`;
    const result: PanelQueryResult = { panel: `variable $${variable.name}`, refId: '-', expr, series: 0 };
    try {
      result.series = (await promQuery(expr)).length;
    } catch (error) {
      result.error = error instanceof Error ? error.message : String(error);
    }
    results.push(result);
  }
  return results;
}

/** A readable list of the queries that errored or came back empty. */
export function emptyOnes(results: PanelQueryResult[]): string[] {
  return results
    .filter((r) => r.error !== undefined || r.series === 0)
    .map((r) => `${r.panel} [${r.refId}]: ${r.error ?? 'no series'} — ${r.expr}`);
}
