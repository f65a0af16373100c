/**
 * The one registry of Observatory's telemetry names: our metric names and units, our attribute keys, the attribute
 * keys of business-event records, and the standard keys we set by hand (taken from the semantic conventions package,
 * never typed as strings).
 * OpenTelemetry names (dots) become Prometheus names through the Collector's prometheus exporter: dots turn into
 * underscores, counters gain `_total`, and the unit is appended (`s` → `_seconds`). Dashboards use the latter.
 */
import {
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
// The FaaS, cloud and messaging keys are still incubating upstream; the package exports them from its incubating
// entry point, pinned to our exact version.
import {
  ATTR_CLOUD_PROVIDER,
  ATTR_CLOUD_REGION,
  ATTR_FAAS_COLDSTART,
  ATTR_FAAS_INVOCATION_ID,
  ATTR_FAAS_MAX_MEMORY,
  ATTR_FAAS_NAME,
  ATTR_FAAS_TRIGGER,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from '@opentelemetry/semantic-conventions/incubating';

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
  /**
   * Raw objects the lake's compaction could not process and filed as failed. Attributes: lake.signal, error.type
   * (out_of_memory|too_large|unreadable|error).
   */
  lakeFailedObjects: {
    name: 'lake.compaction.failed_objects',
    unit: '{object}',
    prometheus: 'lake_compaction_failed_objects_total',
  },
} as const;

/** Our own attribute keys, on spans, metrics and log records. */
export const ATTRIBUTES = {
  eventName: 'event.name',
  outcome: 'outcome',
  reason: 'reason',
  jobId: 'etl.job.id',
  jobKind: 'etl.job.kind',
  jobStatus: 'etl.job.status',
  chunkIndex: 'etl.chunk.index',
  chunkCount: 'etl.chunk.count',
  /** The attempt number of one invocation (1 for the first try). */
  attempt: 'etl.attempt',
  /** On a chunk's producer span: how many attempts the chunk took in all. */
  attemptCount: 'etl.attempt.count',
  /** On a job's finalizer span: links left out above the limit. */
  linksDropped: 'etl.links.dropped',
  /** On a job's finalizer span: the estimated serverless cost in US dollars. */
  costServerlessUsd: 'etl.cost.serverless_usd',
  /** On a job's finalizer span: billed memory × time. */
  billedGbSeconds: 'etl.billed.gb_seconds',
  costModel: 'cost.model',
  userId: 'user.id',
} as const;

/** Attribute keys of business-event records. The Collector keeps only `event.*` attributes of event records. */
export const EVENT_ATTRIBUTES = {
  id: 'event.id',
  schemaVersion: 'event.schema_version',
  rejectedReason: 'event.rejected_reason',
  errors: 'event.errors',
  payload: 'event.payload',
  payloadTruncated: 'event.payload_truncated',
} as const;

/** Standard keys we set by hand (FaaS invocation spans, messaging, cloud), from the semantic conventions. */
export const SEMCONV = {
  faasTrigger: ATTR_FAAS_TRIGGER,
  faasInvocationId: ATTR_FAAS_INVOCATION_ID,
  faasColdstart: ATTR_FAAS_COLDSTART,
  faasName: ATTR_FAAS_NAME,
  faasMaxMemory: ATTR_FAAS_MAX_MEMORY,
  cloudProvider: ATTR_CLOUD_PROVIDER,
  cloudRegion: ATTR_CLOUD_REGION,
  messagingSystem: ATTR_MESSAGING_SYSTEM,
  messagingOperationType: ATTR_MESSAGING_OPERATION_TYPE,
  messagingDestinationName: ATTR_MESSAGING_DESTINATION_NAME,
  messagingMessageId: ATTR_MESSAGING_MESSAGE_ID,
  httpRoute: ATTR_HTTP_ROUTE,
  httpResponseStatusCode: ATTR_HTTP_RESPONSE_STATUS_CODE,
  urlPath: ATTR_URL_PATH,
  serviceName: ATTR_SERVICE_NAME,
} as const;
