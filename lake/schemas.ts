/**
 * The event registry beside the data: self-describing JSON Schemas (tracker/self-describing.ts) published to the
 * lake's bucket under `schemas/`, laid out as an Iglu static registry lays them out
 * (`schemas/<vendor>/<name>/jsonschema/<SchemaVer>`), so that whatever reads the lake — compaction, a Python job,
 * an Iglu client — finds every team's events without a code change. Publishing follows SchemaVer: a version once
 * published never changes (a changed schema is a new version), publishing the same schema again changes nothing,
 * and an event name belongs to one vendor.
 */
import type { S3Store } from '../common/s3-store.ts';
import { allDefinitions } from '../tracker/registry.ts';
import { defineEvents, type EventDefinition } from '../tracker/schema.ts';
import { OUR_VENDOR, type SelfDescribingSchema } from '../tracker/self-describing.ts';

/** Where published schemas live in the lake's bucket. */
export const SCHEMAS_PREFIX = 'schemas/';

const KEY = /^schemas\/([^/]+)\/([^/]+)\/jsonschema\/([^/]+)$/;
const VENDOR = /^[a-z0-9][a-z0-9._-]*$/;

export type PublishOutcome = 'published' | 'unchanged' | 'refused';

export interface PublishResult {
  key: string;
  name: string;
  version: string;
  outcome: PublishOutcome;
  /** Why a schema was refused. */
  reason?: string;
}

/** `schemas/<vendor>/<name>/jsonschema/<version>`. */
export function schemaKey(self: SelfDescribingSchema['self']): string {
  return `${SCHEMAS_PREFIX}${self.vendor}/${self.name}/jsonschema/${self.version}`;
}

/**
 * The event definition a self-describing schema declares, checked against the rules every registry follows
 * (tracker/schema.ts `defineEvents`: snake_case name, SchemaVer, flat scalar properties); throws naming the rule.
 */
export function definitionOf(schema: SelfDescribingSchema): EventDefinition {
  const { $schema: _meta, self, description, ...properties } = schema;
  if (self?.format !== 'jsonschema') throw new Error('self.format must be "jsonschema"');
  if (typeof self.vendor !== 'string' || !VENDOR.test(self.vendor)) {
    throw new Error(`self.vendor ${JSON.stringify(self.vendor)} must be lowercase letters, digits, . _ -`);
  }
  const definition: EventDefinition = {
    name: self.name,
    version: self.version,
    description: typeof description === 'string' ? description : '',
    schema: properties,
  };
  defineEvents({ [self.name]: definition });
  return definition;
}

/** Every published schema, by key. A key or document that does not parse is skipped: it was never ours to write. */
export async function publishedSchemas(store: S3Store): Promise<Map<string, SelfDescribingSchema>> {
  const found = new Map<string, SelfDescribingSchema>();
  for (const object of await store.list(SCHEMAS_PREFIX)) {
    if (!KEY.test(object.key)) continue;
    try {
      const schema = await store.getJson<SelfDescribingSchema>(object.key);
      if (schema && schemaKey(schema.self) === object.key) found.set(object.key, schema);
    } catch {
      // Not JSON: not a schema this module published.
    }
  }
  return found;
}

/** The definitions of every published schema that follows the rules: what compaction validates team events with. */
export async function publishedDefinitions(store: S3Store): Promise<EventDefinition[]> {
  const definitions: EventDefinition[] = [];
  for (const schema of (await publishedSchemas(store)).values()) {
    try {
      definitions.push(definitionOf(schema));
    } catch {
      // Publishing refuses such a schema; one written by hand is not trusted either.
    }
  }
  return definitions;
}

/**
 * Publishes each schema under its key. Refused, with the reason: a schema that breaks a registry rule, a changed
 * schema under a version already published, and an event name that another vendor (ours included) owns.
 */
export async function publishSchemas(
  store: S3Store,
  schemas: readonly SelfDescribingSchema[],
): Promise<PublishResult[]> {
  const existing = await publishedSchemas(store);
  const owners = new Map<string, string>();
  for (const definition of allDefinitions()) owners.set(definition.name, OUR_VENDOR);
  for (const schema of existing.values()) owners.set(schema.self.name, schema.self.vendor);
  const results: PublishResult[] = [];
  for (const schema of schemas) {
    const key = schemaKey(schema.self);
    const result = (outcome: PublishOutcome, reason?: string) =>
      results.push({ key, name: schema.self.name, version: schema.self.version, outcome, reason });
    try {
      definitionOf(schema);
    } catch (error) {
      result('refused', (error as Error).message);
      continue;
    }
    const owner = owners.get(schema.self.name);
    if (owner !== undefined && owner !== schema.self.vendor) {
      result('refused', `event ${schema.self.name} belongs to vendor ${owner}; an event name has one owner`);
      continue;
    }
    const published = existing.get(key);
    if (published) {
      if (canonical(published) === canonical(schema)) result('unchanged');
      else
        result(
          'refused',
          `${schema.self.name} ${schema.self.version} is published with another schema; a published version never changes (SchemaVer): publish the change as a new version (ADDITION for an optional property, MODEL for a breaking change)`,
        );
      continue;
    }
    await store.put(key, `${JSON.stringify(schema, null, 2)}\n`, 'application/schema+json');
    existing.set(key, schema);
    owners.set(schema.self.name, schema.self.vendor);
    result('published');
  }
  return results;
}

/** The schema as sorted-key JSON: two schemas that differ only in key order are the same schema. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
