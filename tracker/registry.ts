/**
 * The registry as code uses it: typed names and properties for `track()`, ajv validators compiled once per
 * event version, and the typed lake columns every event's properties map to.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
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

export interface Validation {
  valid: boolean;
  errors: ValidationError[];
}

/** An ajv error, reduced to what a person needs to fix the call. */
export interface ValidationError {
  path: string;
  message: string;
}

const addFormats = ((formatsModule as unknown as { default?: unknown }).default ??
  formatsModule) as unknown as (ajv: Ajv, formats: string[]) => Ajv;

/** Compiles each event version's validator on first use (six schemas cost a few ms; no need to pay at import). */
export class Validators {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<EventDefinition, ValidateFunction>();

  constructor() {
    this.ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(this.ajv, ['date', 'date-time']);
  }

  validate(definition: EventDefinition, properties: unknown): Validation {
    let validator = this.compiled.get(definition);
    if (!validator) {
      validator = this.ajv.compile(definition.schema);
      this.compiled.set(definition, validator);
    }
    if (validator(properties)) return { valid: true, errors: [] };
    return { valid: false, errors: (validator.errors ?? []).map(toValidationError) };
  }
}

function toValidationError(error: ErrorObject): ValidationError {
  const extra =
    error.keyword === 'additionalProperties'
      ? ` (${String((error.params as { additionalProperty?: string }).additionalProperty)})`
      : '';
  return { path: error.instancePath || '/', message: `${error.message ?? error.keyword}${extra}` };
}
