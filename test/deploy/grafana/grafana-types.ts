/**
 * The Grafana types the dashboard schemas are generated from (by ./dashboard-schema.ts), from the foundation SDK that
 * also builds the dashboards. Its dashboard model is schema version 42, the version we emit; the test checks that.
 */
import type * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as gauge from '@grafana/grafana-foundation-sdk/gauge';
import type * as heatmap from '@grafana/grafana-foundation-sdk/heatmap';
import type * as histogram from '@grafana/grafana-foundation-sdk/histogram';
import type * as piechart from '@grafana/grafana-foundation-sdk/piechart';
import type * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as table from '@grafana/grafana-foundation-sdk/table';
import type * as text from '@grafana/grafana-foundation-sdk/text';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

export type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
export type PrometheusQuery = prometheus.Dataquery;

export type TimeseriesOptions = timeseries.Options;
export type TimeseriesFieldConfig = timeseries.FieldConfig;
export type StatOptions = stat.Options;
export type TableOptions = table.Options;
export type TableFieldConfig = table.FieldConfig;
export type BargaugeOptions = bargauge.Options;
export type GaugeOptions = gauge.Options;
export type TextOptions = text.Options;
export type HeatmapOptions = heatmap.Options;
export type HeatmapFieldConfig = heatmap.FieldConfig;
export type HistogramOptions = histogram.Options;
export type HistogramFieldConfig = histogram.FieldConfig;
export type PiechartOptions = piechart.Options;
export type PiechartFieldConfig = piechart.FieldConfig;
