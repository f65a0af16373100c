/**
 * Runs a dashboard's queries the way Grafana would: template variables and interval macros substituted, each panel
 * target sent to the real Prometheus. A dashboard that shows "No data" fails here instead of in front of a user.
 */
import type { Dashboard, Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { assert } from 'vitest';
import { promQuery } from '../../support/backends.ts';
import { pollUntil } from '../../support/poll.ts';

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

/** Every panel that is not a row, those inside collapsed rows included. */
function panels(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((p) =>
    p.type === 'row' ? ((p as { panels?: Panel[] }).panels ?? []) : [p as Panel],
  );
}

/** A panel's Prometheus targets: those with an expression whose datasource (the target's, else the panel's) is Prometheus. */
function prometheusTargets(panel: Panel): { expr: string; refId: string }[] {
  return (panel.targets ?? []).flatMap((target) => {
    const { expr, refId, datasource } = target as {
      expr?: string;
      refId?: string;
      datasource?: { type?: string };
    };
    const type = datasource?.type ?? panel.datasource?.type;
    return expr && type === 'prometheus' ? [{ expr, refId: refId ?? '?' }] : [];
  });
}

/**
 * The dashboard's problems that no amount of waiting fixes: a panel without any Prometheus query (it can only show
 * "No data"), a query naming a variable that has no value (Grafana would send `$name` to Prometheus), or no query at
 * all. Empty when the dashboard can be checked against Prometheus.
 */
export function structuralProblems(dashboard: Dashboard, variables: VariableValues): string[] {
  const problems: string[] = [];
  let queries = 0;
  for (const panel of panels(dashboard)) {
    const targets = prometheusTargets(panel);
    if (targets.length === 0) problems.push(`panel "${panel.title ?? '?'}" has no Prometheus query`);
    for (const { expr, refId } of targets) {
      queries++;
      try {
        interpolate(expr, variables, dashboard);
      } catch (error) {
        problems.push(`panel "${panel.title ?? '?'}" [${refId}]: ${(error as Error).message}`);
      }
    }
  }
  for (const variable of dashboard.templating.list ?? []) {
    const match = /^label_values\((.+),\s*(\w+)\)$/.exec(String(variable.query ?? ''));
    if (!match) continue;
    queries++;
    try {
      interpolate(match[1]!, variables, dashboard);
    } catch (error) {
      problems.push(`variable $${variable.name}: ${(error as Error).message}`);
    }
  }
  if (queries === 0) problems.push(`dashboard "${dashboard.title ?? '?'}" has no query at all`);
  return problems;
}

/** Every Prometheus target of every panel, substituted and run; `series` is how many series it returned. */
export async function panelQueries(
  dashboard: Dashboard,
  variables: VariableValues,
): Promise<PanelQueryResult[]> {
  const results: PanelQueryResult[] = [];
  for (const panel of panels(dashboard)) {
    for (const { expr: raw, refId } of prometheusTargets(panel)) {
      const expr = interpolate(raw, variables, dashboard);
      const result: PanelQueryResult = { panel: panel.title ?? '?', refId, expr, series: 0 };
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

/**
 * Fails unless every panel and variable query of the dashboard returns data from the real Prometheus. Problems that
 * waiting cannot fix (structuralProblems) fail at once; empty queries are polled until the deadline (rate() needs two
 * scrapes), and the timeout names each query still empty.
 */
export async function expectEveryPanelToHaveData(
  dashboard: Dashboard,
  variables: VariableValues,
  timeoutMs = 60_000,
): Promise<void> {
  const problems = structuralProblems(dashboard, variables);
  if (problems.length > 0) assert.fail(`${dashboard.title} cannot be checked:\n${problems.join('\n')}`);
  await pollUntil(
    `data in every panel of ${dashboard.title}`,
    async () => {
      const results = [
        ...(await variableQueries(dashboard, variables)),
        ...(await panelQueries(dashboard, variables)),
      ];
      const empty = emptyOnes(results);
      if (empty.length > 0) throw new Error(`empty:\n${empty.join('\n')}`);
      return results;
    },
    { timeoutMs, intervalMs: 2_000 },
  );
}
