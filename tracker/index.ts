export { Tracker } from './tracker.ts';
export { EVENT_ATTRIBUTES } from '../common/names.ts';
export { uuidv7, uuidv7Time } from './uuidv7.ts';
export { defineEvent } from './schema.ts';
export {
  allDefinitions,
  columnType,
  currentDefinition,
  findDefinition,
  propertyColumns,
  Validators,
  COMMON_PROPERTY_COLUMNS,
} from './registry.ts';
export { EVENTS } from './events/index.ts';
export type {
  DropReason,
  LogDeliveries,
  RejectReason,
  TrackCounts,
  TrackerFlushResult,
  TrackerOptions,
} from './types.ts';
export type { EventName, EventProperties, ColumnType, Validation, ValidationError } from './registry.ts';
export type { EventDefinition, PropertiesOf, PropertiesSchema, ScalarSchema } from './schema.ts';
