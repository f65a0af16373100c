/**
 * The few building blocks every Observatory dashboard shares: datasource references by their provisioned UIDs
 * (deploy/grafana/provisioning/datasources/datasources.yaml), Prometheus queries, time-series and stat panels.
 */
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import {
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import {
  VizLegendOptionsBuilder,
  LegendDisplayMode,
  LegendPlacement,
} from '@grafana/grafana-foundation-sdk/common';

export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'observatory-prometheus' };
export const JAEGER: DataSourceRef = { type: 'jaeger', uid: 'observatory-jaeger' };

export interface Query {
  expr: string;
  legend: string;
  /** Ask for exemplars (trace IDs of sample requests) with the series. @default false */
  exemplar?: boolean;
}

function target(query: Query, index: number): DataqueryBuilder {
  const builder = new DataqueryBuilder()
    .refId(String.fromCharCode(65 + index))
    .datasource(PROMETHEUS)
    .expr(query.expr)
    .legendFormat(query.legend)
    .range();
  return query.exemplar ? builder.exemplar(true) : builder;
}

/** A time series of one or more queries. */
export function timeseries(
  title: string,
  unit: string,
  queries: Query[],
  description = '',
): TimeseriesBuilder {
  const panel = new TimeseriesBuilder()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .unit(unit)
    .min(0)
    .fillOpacity(10)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .height(8)
    .span(12);
  queries.forEach((query, i) => panel.withTarget(target(query, i)));
  return panel;
}

/** One number (the last value of the query's sum). */
export function stat(title: string, unit: string, query: Query, description = ''): StatBuilder {
  return new StatBuilder()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .unit(unit)
    .height(4)
    .span(6)
    .withTarget(target(query, 0));
}

/** A Prometheus label-values variable. */
export function labelVariable(
  name: string,
  label: string,
  query: string,
  includeAll = true,
): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(includeAll)
    .includeAll(includeAll)
    .allValue('.*');
}

/**
 * `expr` with its zero twin: Prometheus has no series for a counter that never moved (no failure yet), and a panel
 * would show "No data". `zeroOf` names series that exist whenever the thing is running, multiplied by zero, so the
 * panel shows an honest 0 per label set instead.
 */
export function orZero(expr: string, zeroOf: string): string {
  return `(${expr}) or (${zeroOf}) * 0`;
}
