/**
 * How an event is declared: a name, a SchemaVer version (MODEL-REVISION-ADDITION) and a JSON Schema for its
 * properties, restricted to flat objects of scalars so that every property maps to one typed column in the lake
 * (and to one TypeScript type here). The same object drives ajv at run time and `track()`'s types at compile time.
 */

export type ScalarSchema =
  | {
      type: 'string';
      format?: 'date' | 'date-time';
      enum?: readonly string[];
      maxLength?: number;
      description?: string;
    }
  | { type: 'integer' | 'number'; minimum?: number; maximum?: number; description?: string }
  | { type: 'boolean'; description?: string };

export interface PropertiesSchema {
  type: 'object';
  additionalProperties: false;
  required: readonly string[];
  properties: Readonly<Record<string, ScalarSchema>>;
}

export interface EventDefinition {
  /** snake_case, the record's eventName and the lake's event_name partition. */
  name: string;
  /** SchemaVer, e.g. `1-0-0`: a breaking change bumps MODEL, an optional property bumps ADDITION. */
  version: string;
  description: string;
  schema: PropertiesSchema;
}

/** Declares an event; `const` keeps the literal types that `track()`'s signature is derived from. */
export function defineEvent<const D extends EventDefinition>(definition: D): D {
  return definition;
}

/** The events `track()` may emit, by name: each entry is the current version of that event. */
export type EventRegistry = Readonly<Record<string, EventDefinition>>;

const NAME = /^[a-z][a-z0-9_]*$/;
const SCHEMAVER = /^[1-9]\d*-\d+-\d+$/;

/**
 * Declares a registry, checking the rules every registry follows: each key is its event's snake_case name, each
 * version is SchemaVer (MODEL-REVISION-ADDITION), properties are flat scalars, and one property name has one type
 * across all events (one lake column). A registry that breaks a rule throws here, at load, naming the event.
 */
export function defineEvents<const R extends EventRegistry>(events: R): R {
  const types = new Map<string, string>();
  for (const [key, definition] of Object.entries(events)) {
    const where = `event ${JSON.stringify(key)}`;
    if (definition.name !== key)
      throw new Error(
        `${where}: registered under a key other than its name ${JSON.stringify(definition.name)}`,
      );
    if (!NAME.test(key))
      throw new Error(`${where}: a name must be snake_case (lowercase letters, digits, _)`);
    if (!SCHEMAVER.test(definition.version)) {
      throw new Error(
        `${where}: version ${JSON.stringify(definition.version)} is not SchemaVer (e.g. 1-0-0)`,
      );
    }
    const schema = definition.schema;
    if (schema?.type !== 'object' || schema.additionalProperties !== false) {
      throw new Error(`${where}: the schema must be {type: 'object', additionalProperties: false, …}`);
    }
    for (const required of schema.required) {
      if (!Object.hasOwn(schema.properties, required))
        throw new Error(`${where}: required property ${required} is not declared`);
    }
    for (const [property, scalar] of Object.entries(schema.properties)) {
      if (!['string', 'integer', 'number', 'boolean'].includes(scalar.type)) {
        throw new Error(`${where}: property ${property} must be a string, integer, number or boolean`);
      }
      const type =
        scalar.type === 'string' ? `string:${'format' in scalar ? (scalar.format ?? '') : ''}` : scalar.type;
      const seen = types.get(property);
      if (seen !== undefined && seen !== type) {
        throw new Error(
          `${where}: property ${property} has another type in another event; one property name has one type`,
        );
      }
      types.set(property, type);
    }
  }
  return events;
}

type ValueOf<P> = P extends { enum: readonly (infer E)[] }
  ? E
  : P extends { type: 'string' }
    ? string
    : P extends { type: 'integer' | 'number' }
      ? number
      : P extends { type: 'boolean' }
        ? boolean
        : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The TypeScript type of the properties a schema accepts. */
export type PropertiesOf<S extends PropertiesSchema> = Simplify<
  {
    -readonly [K in keyof S['properties'] as K extends S['required'][number] ? K : never]: ValueOf<
      S['properties'][K]
    >;
  } & {
    -readonly [K in keyof S['properties'] as K extends S['required'][number] ? never : K]?: ValueOf<
      S['properties'][K]
    >;
  }
>;
