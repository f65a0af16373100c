/**
 * The tracker's one entry, and what the `@observatory/tracker` package exports: the Tracker for an event registry,
 * and the helpers to declare one. A team keeps one file per event version (`defineEvent`), lists the current
 * versions in one registry (`defineEvents`), and gets `track()` typed from it with the same validation, rejected
 * rows, enrichment and delivery as Observatory's own services (which record through tracker/track.ts, on our
 * registry in tracker/events/). Telemetry comes from `@observatory/instrumentation`'s preload.
 */
export { Tracker } from './tracker.ts';
export { defineEvent, defineEvents } from './schema.ts';
export { uuidv7, uuidv7Time } from './uuidv7.ts';
export { EVENT_ATTRIBUTES } from '../common/names.ts';
export type {
  DropReason,
  LogDeliveries,
  RejectReason,
  TrackCounts,
  TrackerFlushResult,
  TrackerOptions,
} from './types.ts';
export type {
  EventDefinition,
  EventRegistry,
  PropertiesOf,
  PropertiesSchema,
  ScalarSchema,
} from './schema.ts';
