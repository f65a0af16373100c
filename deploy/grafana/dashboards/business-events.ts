/**
 * Business events: what the Tracker accepted per event name, and what it rejected or dropped, by reason
 * (observatory_events_total, attributes event.name, outcome, reason).
 */
import { DashboardBuilder, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRICS } from '../../../common/names.ts';
import { labelVariable, orZero, stat, timeseries } from './panels.ts';

export function businessEventsDashboard(): Dashboard {
  const events = METRICS.events.prometheus;
  const scope = 'event_name=~"$event"';
  const all = `sum(rate(${events}{${scope}}[$__rate_interval]))`;
  const rejected = `sum by (reason) (rate(${events}{${scope}, outcome="rejected"}[$__rate_interval]))`;
  return new DashboardBuilder('Observatory / Business events')
    .uid('observatory-business-events')
    .tags(['observatory', 'events'])
    .description('Business events per second by name; rejected and dropped events by reason.')
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('utc')
    .withVariable(labelVariable('event', 'Event', `label_values(${events}, event_name)`))
    .withRow(new RowBuilder('Events'))
    .withPanel(
      stat('Accepted events/s', 'short', {
        expr: `sum(rate(${events}{${scope}, outcome="accepted"}[$__rate_interval]))`,
        legend: 'accepted',
      }),
    )
    .withPanel(
      stat('Rejected share', 'percentunit', {
        expr: `sum(${orZero(rejected, all)}) / ${all}`,
        legend: 'rejected',
      }),
    )
    .withPanel(
      timeseries('Events/s by name', 'short', [
        {
          expr: `sum by (event_name) (rate(${events}{${scope}, outcome="accepted"}[$__rate_interval]))`,
          legend: '{{event_name}}',
        },
      ]),
    )
    .withPanel(
      timeseries(
        'Rejected events/s by reason',
        'short',
        [{ expr: orZero(rejected, all), legend: '{{reason}}' }],
        'A single 0 series (no reason label) while nothing has been rejected.',
      ),
    )
    .withPanel(
      timeseries('Events/s by outcome', 'short', [
        { expr: `sum by (outcome) (rate(${events}{${scope}}[$__rate_interval]))`, legend: '{{outcome}}' },
      ]),
    )
    .build();
}
