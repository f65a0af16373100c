import type { LoggerProvider, MeterProvider } from '@opentelemetry/api';

export interface TrackerOptions {
  /** Where event records go; unit tests inject one with an in-memory exporter. @default the global LoggerProvider (the instrumentation preload sets it) */
  loggerProvider?: LoggerProvider;
  /** Where the `observatory.events` counter goes. @default the global MeterProvider */
  meterProvider?: MeterProvider;
  /** Check properties against the event's JSON Schema at run time. @default true */
  validate?: boolean;
  /** A serialized event (name and properties) larger than this is rejected as `size_violation`. @default 32768 (`OBSERVATORY_TRACKER_MAX_EVENT_BYTES`) */
  maxEventBytes?: number;
  /** The bound of `flush()` and `shutdown()` called without one. @default 5000 (`OBSERVATORY_SHUTDOWN_TIMEOUT_MS`) */
  timeoutMillis?: number;
  /** Read instead of `process.env` for the defaults above. @default process.env */
  env?: Record<string, string | undefined>;
}

/** Why `track()` rejected or dropped an event; the lake's `rejected` table is partitioned by it. */
export type RejectReason = 'unknown_event' | 'schema_violation' | 'size_violation';
export type DropReason = 'shutdown' | 'internal_error';

export interface TrackCounts {
  /** Valid events handed to the SDK. */
  accepted: number;
  /** Invalid events, handed to the SDK as rejected records (they land in the lake's rejected table). */
  rejected: number;
  /** Events never handed to the SDK: tracked after shutdown, or a fault inside the tracker. */
  dropped: number;
}

export interface LogDeliveries {
  offered: number;
  delivered: number;
  failed: number;
  dropped: number;
}

export interface TrackerFlushResult {
  /** False when the timeout ran out before the SDK had exported everything. */
  completed: boolean;
  /** What `track()` did since the tracker was created. */
  events: TrackCounts;
  /**
   * The SDK's delivery counts for log records — every log record of the process, events included — when the tracker
   * uses the preload's pipeline; undefined with an injected LoggerProvider, whose exporter the tracker cannot see.
   */
  logs: LogDeliveries | undefined;
  /** Log records the exporter delivered (`logs.delivered`), or undefined when unknown. */
  delivered: number | undefined;
  /** Never silent: events the tracker dropped plus records the SDK did not deliver by the end of the flush. */
  dropped: number;
}
