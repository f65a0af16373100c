import { EVENTS } from './events/index.ts';
import { Tracker as RegistryTracker } from './tracker.ts';
import type { TrackerOptions } from './types.ts';

/** The Tracker of Observatory's own services and workers, on our registry (tracker/events/). */
export class Tracker extends RegistryTracker<typeof EVENTS> {
  constructor(options: TrackerOptions = {}) {
    super({ ...options, events: EVENTS });
  }
}

export { EVENT_ATTRIBUTES } from '../common/names.ts';
export { uuidv7, uuidv7Time } from './uuidv7.ts';
export { defineEvent, defineEvents } from './schema.ts';
export {
  allDefinitions,
  columnType,
  currentDefinition,
  findDefinition,
  propertyColumns,
  Validators,
  COMMON_PROPERTY_COLUMNS,
} from './registry.ts';
export { EVENTS };
export type {
  DropReason,
  LogDeliveries,
  RejectReason,
  TrackCounts,
  TrackerFlushResult,
  TrackerOptions,
} from './types.ts';
export type { EventName, EventProperties, ColumnType, Validation, ValidationError } from './registry.ts';
export type {
  EventDefinition,
  EventRegistry,
  PropertiesOf,
  PropertiesSchema,
  ScalarSchema,
} from './schema.ts';
