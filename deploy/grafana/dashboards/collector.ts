/**
 * Collector: what the Collector's receivers accepted and refused, what its exporters sent and failed to send, and
 * how full the sending queues are, per signal. From the Collector's own metrics (otelcol_*, v0.158 names: no `_total`
 * suffix), scraped from its telemetry endpoint; `job` picks the Collector (local: otel-collector).
 */
import { DashboardBuilder, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { labelVariable, orZero, timeseries, type Query } from './panels.ts';

const job = 'job=~"$job"';
const SIGNALS = [
  { item: 'spans', label: 'spans' },
  { item: 'metric_points', label: 'metric points' },
  { item: 'log_records', label: 'log records' },
];

const rate = (metric: string, by: string) => `sum by (${by}) (rate(${metric}{${job}}[$__rate_interval]))`;

function perSignal(
  metric: (item: string) => string,
  by: string,
  legend: string,
  zeroOf?: (item: string) => string,
): Query[] {
  return SIGNALS.map(({ item, label }) => ({
    expr: zeroOf ? orZero(rate(metric(item), by), rate(zeroOf(item), by)) : rate(metric(item), by),
    legend: `${label} ${legend}`,
  }));
}

export function collectorDashboard(): Dashboard {
  return new DashboardBuilder('Observatory / Collector')
    .uid('observatory-collector')
    .tags(['observatory', 'collector'])
    .description('Accepted, refused, sent, failed and queued telemetry per signal.')
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('utc')
    .withVariable(labelVariable('job', 'Collector job', 'label_values(otelcol_process_uptime, job)'))
    .withRow(new RowBuilder('Receivers'))
    .withPanel(
      timeseries(
        'Accepted/s',
        'short',
        perSignal(
          (item) => `otelcol_receiver_accepted_${item}`,
          'receiver, transport',
          '{{receiver}}/{{transport}}',
        ),
      ),
    )
    .withPanel(
      timeseries(
        'Refused/s',
        'short',
        perSignal(
          (item) => `otelcol_receiver_refused_${item}`,
          'receiver, transport',
          '{{receiver}}/{{transport}}',
          (item) => `otelcol_receiver_accepted_${item}`,
        ),
        'Refused by the memory limiter or a full queue: the sender should retry. 0 while nothing was refused.',
      ),
    )
    .withRow(new RowBuilder('Exporters'))
    .withPanel(
      timeseries(
        'Sent/s',
        'short',
        perSignal((item) => `otelcol_exporter_sent_${item}`, 'exporter', '{{exporter}}'),
      ),
    )
    .withPanel(
      timeseries(
        'Failed/s',
        'short',
        perSignal(
          (item) => `otelcol_exporter_send_failed_${item}`,
          'exporter',
          '{{exporter}}',
          (item) => `otelcol_exporter_sent_${item}`,
        ),
        'Sends that failed after retries. 0 while nothing failed.',
      ),
    )
    .withPanel(
      timeseries(
        'Queue size by signal',
        'short',
        [
          {
            expr: `sum by (data_type, exporter) (otelcol_exporter_queue_size{${job}})`,
            legend: '{{data_type}} {{exporter}}',
          },
          {
            expr: `sum by (data_type) (otelcol_exporter_queue_capacity{${job}})`,
            legend: '{{data_type}} capacity',
          },
        ],
        'Batches waiting in the on-disk sending queues, against their capacity.',
      ),
    )
    .withPanel(
      timeseries('Memory (RSS)', 'bytes', [
        { expr: `sum by (instance) (otelcol_process_memory_rss{${job}})`, legend: '{{instance}}' },
      ]),
    )
    .build();
}
