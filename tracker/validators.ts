/** ajv validators, compiled once per event version: the run-time half of `track()`'s checks, for any registry. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import type { EventDefinition } from './schema.ts';

export interface Validation {
  valid: boolean;
  /** The first MAX_VALIDATION_ERRORS errors, in ajv's order. */
  errors: ValidationError[];
  /** Errors ajv found beyond those kept. */
  omitted: number;
}

/**
 * The errors a rejected record carries at most. ajv reports one error per unknown property, so an event with
 * thousands of them (still under the size limit) has thousands of errors: a person fixing the call needs the
 * first few and the count, and keeping them all made `track()` cost grow with them on the request path.
 */
export const MAX_VALIDATION_ERRORS = 20;

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
    const unknown = unknownProperties(definition, properties, MAX_VALIDATION_ERRORS);
    if (unknown.count === 0) {
      if (validator(properties)) return { valid: true, errors: [], omitted: 0 };
      return bounded((validator.errors ?? []).map(toValidationError));
    }
    // ajv would build one error object per unknown property: report them from the scan instead, and let ajv
    // check only the declared ones, so that the cost no longer grows with what the caller added.
    validator(pick(properties as Record<string, unknown>, definition));
    const found = validator.errors ?? [];
    const declared = found.slice(0, MAX_VALIDATION_ERRORS - 1).map(toValidationError);
    // The errors on declared properties stay whatever the number of unknown ones: they are the ones to fix first.
    const room = MAX_VALIDATION_ERRORS - declared.length;
    return {
      valid: false,
      errors: [...unknown.first.slice(0, room).map(additionalProperty), ...declared],
      omitted: Math.max(0, unknown.count - room) + found.length - declared.length,
    };
  }
}

/**
 * How many of the caller's property names the schema does not declare, and the first `limit` of them (none when
 * `properties` is not an object: ajv says so). The count comes from `Object.keys` less the declared names present,
 * so only the names kept are looked up one by one: an event with thousands of unknown properties costs one native
 * key listing, not a lookup per key.
 */
function unknownProperties(
  definition: EventDefinition,
  properties: unknown,
  limit: number,
): { count: number; first: string[] } {
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties))
    return { count: 0, first: [] };
  const keys = Object.keys(properties);
  const declared = definition.schema.properties;
  let present = 0;
  for (const key in declared) if (Object.hasOwn(properties, key)) present++;
  const count = keys.length - present;
  const first: string[] = [];
  for (let i = 0; i < keys.length && first.length < Math.min(count, limit); i++) {
    if (!Object.hasOwn(declared, keys[i]!)) first.push(keys[i]!);
  }
  return { count, first };
}

function pick(properties: Record<string, unknown>, definition: EventDefinition): Record<string, unknown> {
  const declared: Record<string, unknown> = {};
  for (const key of Object.keys(definition.schema.properties)) {
    if (Object.hasOwn(properties, key)) declared[key] = properties[key];
  }
  return declared;
}

function bounded(errors: ValidationError[]): Validation {
  return {
    valid: false,
    errors: errors.slice(0, MAX_VALIDATION_ERRORS),
    omitted: Math.max(0, errors.length - MAX_VALIDATION_ERRORS),
  };
}

/** The error ajv gives for an unknown property, in its words. */
function additionalProperty(name: string): ValidationError {
  return { path: '/', message: `must NOT have additional properties (${name})` };
}

function toValidationError(error: ErrorObject): ValidationError {
  const extra =
    error.keyword === 'additionalProperties'
      ? ` (${String((error.params as { additionalProperty?: string }).additionalProperty)})`
      : '';
  return { path: error.instancePath || '/', message: `${error.message ?? error.keyword}${extra}` };
}
