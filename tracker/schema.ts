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
