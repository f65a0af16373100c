/**
 * Services: request rate, error ratio and latency percentiles per service and route, from the span metrics the
 * Collector's spanmetrics connector derives from server spans (traces_span_metrics_*). Span names are bounded by the
 * Collector (`METHOD route`), so one series per route, never per URL.
 */
import { DashboardBuilder, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { labelVariable, orZero, stat, timeseries } from './panels.ts';

const CALLS = 'traces_span_metrics_calls_total';
const DURATION = 'traces_span_metrics_duration_milliseconds_bucket';
const server =
  'span_kind="SPAN_KIND_SERVER", service_name=~"$service", deployment_environment_name=~"$stage"';
const by = 'service_name, http_route';

const requests = `sum by (${by}) (rate(${CALLS}{${server}}[$__rate_interval]))`;
const errors = `sum by (${by}) (rate(${CALLS}{${server}, status_code="STATUS_CODE_ERROR"}[$__rate_interval]))`;
const quantile = (q: number) =>
  `histogram_quantile(${q}, sum by (le, ${by}) (rate(${DURATION}{${server}}[$__rate_interval])))`;

export function servicesDashboard(): Dashboard {
  return new DashboardBuilder('Observatory / Services')
    .uid('observatory-services')
    .tags(['observatory', 'services', 'spanmetrics'])
    .description('Request rate, errors and duration per service and route, from span metrics.')
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('utc')
    .withVariable(labelVariable('stage', 'Stage', `label_values(${CALLS}, deployment_environment_name)`))
    .withVariable(
      labelVariable(
        'service',
        'Service',
        `label_values(${CALLS}{deployment_environment_name=~"$stage"}, service_name)`,
      ),
    )
    .withRow(new RowBuilder('Overview'))
    .withPanel(stat('Requests/s', 'reqps', { expr: `sum(${requests})`, legend: 'requests/s' }))
    .withPanel(
      stat('Error ratio', 'percentunit', {
        expr: `sum(${orZero(errors, requests)}) / sum(${requests})`,
        legend: 'errors',
      }),
    )
    .withPanel(stat('p95 duration', 'ms', { expr: `max(${quantile(0.95)})`, legend: 'p95' }))
    .withPanel(stat('p99 duration', 'ms', { expr: `max(${quantile(0.99)})`, legend: 'p99' }))
    .withRow(new RowBuilder('Per route'))
    .withPanel(
      timeseries('Request rate', 'reqps', [{ expr: requests, legend: '{{service_name}} {{http_route}}' }]),
    )
    .withPanel(
      timeseries(
        'Error ratio',
        'percentunit',
        [{ expr: `(${orZero(errors, requests)}) / ${requests}`, legend: '{{service_name}} {{http_route}}' }],
        'Share of server spans with error status. 0 when a route has had no error in the window.',
      ),
    )
    .withPanel(
      timeseries('Duration p50', 'ms', [
        { expr: quantile(0.5), legend: '{{service_name}} {{http_route}}', exemplar: true },
      ]),
    )
    .withPanel(
      timeseries('Duration p95 / p99', 'ms', [
        { expr: quantile(0.95), legend: 'p95 {{service_name}} {{http_route}}', exemplar: true },
        { expr: quantile(0.99), legend: 'p99 {{service_name}} {{http_route}}', exemplar: true },
      ]),
    )
    .build();
}
