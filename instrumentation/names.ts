/**
 * The one registry of Observatory's own telemetry names: metric names and units, attribute keys, event names.
 * OpenTelemetry names (dots) become Prometheus names through the Collector's prometheus exporter: dots turn into
 * underscores, counters gain `_total`, and the unit is appended (`s` → `_seconds`). Dashboards use the latter.
 */

export const METRICS = {
  /** Business events handled by the Tracker. Attributes: event.name, outcome (accepted|rejected|dropped), reason. */
  events: { name: 'observatory.events', unit: '{event}', prometheus: 'observatory_events_total' },
  /** ETL jobs finished. Attributes: etl.job.kind, etl.job.status (done|partial|failed). */
  etlJobs: { name: 'etl.jobs', unit: '{job}', prometheus: 'etl_jobs_total' },
  /** Chunk outcomes. Attributes: etl.job.kind, outcome (processed|failed|retried|dead_lettered). */
  etlChunks: { name: 'etl.chunks', unit: '{chunk}', prometheus: 'etl_chunks_total' },
  /** Worker invocation duration. Attributes: faas.name, faas.coldstart, outcome. */
  etlInvocationDuration: {
    name: 'etl.invocation.duration',
    unit: 's',
    prometheus: 'etl_invocation_duration_seconds',
  },
  /** Invocations in flight (up-down counter). Attributes: faas.name. */
  etlConcurrency: { name: 'etl.concurrency', unit: '{invocation}', prometheus: 'etl_concurrency' },
  /** Cold starts. Attributes: faas.name. */
  etlColdStarts: { name: 'etl.coldstarts', unit: '{start}', prometheus: 'etl_coldstarts_total' },
  /** Billed memory × time, as Lambda bills it. Attributes: faas.name, etl.job.kind. */
  etlBilledGbSeconds: {
    name: 'etl.billed.gb_seconds',
    unit: '{GB-second}',
    prometheus: 'etl_billed_gb_seconds_total',
  },
  /** Estimated cost in US dollars. Attributes: etl.job.kind, cost.model (serverless|always_on). */
  etlCost: { name: 'etl.cost.usd', unit: '{USD}', prometheus: 'etl_cost_usd_total' },
} as const;

export const ATTRIBUTES = {
  eventName: 'event.name',
  outcome: 'outcome',
  reason: 'reason',
  jobId: 'etl.job.id',
  jobKind: 'etl.job.kind',
  jobStatus: 'etl.job.status',
  chunkIndex: 'etl.chunk.index',
  chunkCount: 'etl.chunk.count',
  costModel: 'cost.model',
  userId: 'user.id',
} as const;
