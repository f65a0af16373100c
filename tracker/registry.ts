/**
 * Our registry as code uses it: typed names and properties for `track()`, and the typed lake columns every event's
 * properties map to.
 */
import { EVENTS, PREVIOUS_VERSIONS } from './events/index.ts';
import type { EventDefinition, PropertiesOf, ScalarSchema } from './schema.ts';

export type EventName = keyof typeof EVENTS;
export type EventProperties<N extends EventName> = PropertiesOf<(typeof EVENTS)[N]['schema']>;

/** The version `track()` emits for `name`, or undefined when the name is not registered. */
export function currentDefinition(name: string): EventDefinition | undefined {
  return Object.hasOwn(EVENTS, name) ? (EVENTS as Record<string, EventDefinition>)[name] : undefined;
}

/** Every registered version of every event, current ones first. */
export function allDefinitions(): EventDefinition[] {
  return [...Object.values(EVENTS), ...(PREVIOUS_VERSIONS as readonly EventDefinition[])];
}

export function findDefinition(name: string, version: string): EventDefinition | undefined {
  return allDefinitions().find((d) => d.name === name && d.version === version);
}

export type ColumnType = 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'DATE' | 'TIMESTAMP';

export function columnType(schema: ScalarSchema): ColumnType {
  switch (schema.type) {
    case 'integer':
      return 'BIGINT';
    case 'number':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    default:
      return schema.format === 'date' ? 'DATE' : schema.format === 'date-time' ? 'TIMESTAMP' : 'VARCHAR';
  }
}

/** Properties that are common lake columns already; every other property becomes a typed column of its own. */
export const COMMON_PROPERTY_COLUMNS = new Set(['user_id']);

/**
 * The union of typed property columns across all events. One name has one type everywhere, so that one lake table
 * (and one Athena table) can hold every event; a registry that breaks this fails here, at load.
 */
export function propertyColumns(definitions: EventDefinition[] = allDefinitions()): Map<string, ColumnType> {
  const columns = new Map<string, ColumnType>();
  for (const definition of definitions) {
    for (const [property, schema] of Object.entries(definition.schema.properties)) {
      if (COMMON_PROPERTY_COLUMNS.has(property)) continue;
      const type = columnType(schema);
      const seen = columns.get(property);
      if (seen && seen !== type) {
        throw new Error(
          `event ${definition.name} ${definition.version}: property ${property} is ${type}, but another event declares it ${seen}; one property name must have one type in the lake`,
        );
      }
      columns.set(property, type);
    }
  }
  return columns;
}

export { Validators, type Validation, type ValidationError } from './validators.ts';
