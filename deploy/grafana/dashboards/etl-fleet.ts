/**
 * ETL fleet: jobs and chunk outcomes, concurrency and cold starts of the Lambda-style workers, billed GB-seconds and
 * the estimated cost of running serverless against an always-on server. Metric names from common/names.ts.
 */
import { DashboardBuilder, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRICS } from '../../../common/names.ts';
import { labelVariable, stat, timeseries } from './panels.ts';

const kind = 'etl_job_kind=~"$kind"';

export function etlFleetDashboard(): Dashboard {
  const jobs = METRICS.etlJobs.prometheus;
  const chunks = METRICS.etlChunks.prometheus;
  const duration = `${METRICS.etlInvocationDuration.prometheus}_bucket`;
  const cost = METRICS.etlCost.prometheus;
  return new DashboardBuilder('Observatory / ETL fleet')
    .uid('observatory-etl-fleet')
    .tags(['observatory', 'etl'])
    .description('Jobs, chunks, workers and what the fleet costs against an always-on server.')
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('utc')
    .withVariable(labelVariable('kind', 'Job kind', `label_values(${jobs}, etl_job_kind)`))
    .withRow(new RowBuilder('Jobs and chunks'))
    .withPanel(
      timeseries('Jobs finished by status', 'short', [
        {
          expr: `sum by (etl_job_status) (increase(${jobs}{${kind}}[$__rate_interval]))`,
          legend: '{{etl_job_status}}',
        },
      ]),
    )
    .withPanel(
      timeseries(
        'Chunks by outcome',
        'short',
        [
          {
            expr: `sum by (outcome) (increase(${chunks}{${kind}}[$__rate_interval]))`,
            legend: '{{outcome}}',
          },
        ],
        'processed, failed, retried and dead_lettered chunks.',
      ),
    )
    .withRow(new RowBuilder('Workers'))
    .withPanel(
      timeseries('Concurrency', 'short', [
        { expr: `sum by (faas_name) (${METRICS.etlConcurrency.prometheus})`, legend: '{{faas_name}}' },
      ]),
    )
    .withPanel(
      timeseries('Cold starts', 'short', [
        {
          expr: `sum by (faas_name) (increase(${METRICS.etlColdStarts.prometheus}[$__rate_interval]))`,
          legend: '{{faas_name}}',
        },
      ]),
    )
    .withPanel(
      timeseries('Invocation duration p95', 's', [
        {
          expr: `histogram_quantile(0.95, sum by (le, faas_name) (rate(${duration}[$__rate_interval])))`,
          legend: '{{faas_name}}',
        },
      ]),
    )
    .withRow(new RowBuilder('Cost'))
    .withPanel(
      stat('Billed GB-seconds (range)', 'short', {
        expr: `sum(increase(${METRICS.etlBilledGbSeconds.prometheus}{${kind}}[$__range]))`,
        legend: 'GB-s',
      }),
    )
    .withPanel(
      stat('Estimated cost, serverless (range)', 'currencyUSD', {
        expr: `sum(increase(${cost}{${kind}, cost_model="serverless"}[$__range]))`,
        legend: 'serverless',
      }),
    )
    .withPanel(
      stat('Estimated cost, always-on server (range)', 'currencyUSD', {
        expr: `sum(increase(${cost}{${kind}, cost_model="always_on"}[$__range]))`,
        legend: 'always on',
      }),
    )
    .withPanel(
      timeseries('Estimated cost: serverless vs always-on', 'currencyUSD', [
        {
          expr: `sum by (cost_model) (increase(${cost}{${kind}}[$__rate_interval]))`,
          legend: '{{cost_model}}',
        },
      ]),
    )
    .build();
}
