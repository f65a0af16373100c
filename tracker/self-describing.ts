/**
 * An event version as a self-describing JSON Schema, the way Snowplow's Iglu writes them: the schema names itself
 * (`self`: vendor, name, format, SchemaVer version) beside the plain JSON Schema of the properties. These files are
 * what leaves TypeScript: the Python tracker validates against them, and they are what is published beside the data.
 */
import type { EventDefinition, PropertiesSchema } from './schema.ts';

/** Iglu's meta-schema URI for a self-describing JSON Schema. */
export const SELF_DESCRIBING_META_SCHEMA =
  'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#';

/** Our events' vendor; a team's registry names its own. */
export const OUR_VENDOR = 'observatory';

export interface SelfDescribingSchema extends PropertiesSchema {
  $schema: string;
  self: { vendor: string; name: string; format: 'jsonschema'; version: string };
  description: string;
}

export function selfDescribingSchema(
  definition: EventDefinition,
  vendor: string = OUR_VENDOR,
): SelfDescribingSchema {
  return {
    $schema: SELF_DESCRIBING_META_SCHEMA,
    self: { vendor, name: definition.name, format: 'jsonschema', version: definition.version },
    description: definition.description,
    ...definition.schema,
  };
}

/** `<name>.<SchemaVer>.json`, as the event files are named. */
export function schemaFileName(definition: Pick<EventDefinition, 'name' | 'version'>): string {
  return `${definition.name}.${definition.version}.json`;
}
