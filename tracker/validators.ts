/** ajv validators, compiled once per event version: the run-time half of `track()`'s checks, for any registry. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import type { EventDefinition } from './schema.ts';

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
