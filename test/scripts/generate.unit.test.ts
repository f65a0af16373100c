/**
 * `npm run generate` (scripts/generate.ts): the event files in tracker/events/ are the only place an event is
 * written; the registry (tracker/events/index.ts) and the Athena DDL (deploy/aws/athena/tables.sql) are derived from
 * them, and these tests fail while a committed copy is stale.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ATHENA_DDL,
  athenaDdlSource,
  compareSchemaVer,
  eventFiles,
  eventIndexSource,
  EVENTS_DIR,
  EVENTS_INDEX,
  generate,
  PYTHON_SCHEMAS_DIR,
  schemaFileSources,
} from '../../scripts/generate.ts';
import { allDefinitions } from '../../tracker/registry.ts';

const STALE = 'stale: run npm run generate and commit the result';

describe('The generated files', () => {
  it('include a committed tracker/events/index.ts that is what npm run generate writes from the event files', async () => {
    expect(readFileSync(EVENTS_INDEX, 'utf8'), STALE).toBe(await eventIndexSource(readdirSync(EVENTS_DIR)));
  });

  it('include a committed deploy/aws/athena/tables.sql that is what npm run generate writes from the registry', async () => {
    expect(readFileSync(ATHENA_DDL, 'utf8'), STALE).toBe(await athenaDdlSource());
  });

  it('project in tables.sql every event that has a file in tracker/events/, each once', () => {
    const projected = /'projection\.event_name\.values' = '([^']*)'/.exec(readFileSync(ATHENA_DDL, 'utf8'));
    const names = [...new Set(eventFiles(readdirSync(EVENTS_DIR)).map((event) => event.name))];
    expect(projected?.[1]?.split(',')).toEqual(names.sort());
  });

  it("include python/observatory/schemas/: one self-describing JSON Schema per event version, equal to the registry's", async () => {
    const expected = await schemaFileSources();
    expect(readdirSync(PYTHON_SCHEMAS_DIR).sort(), STALE).toEqual([...expected.keys()].sort());
    for (const [file, text] of expected) {
      expect(readFileSync(join(PYTHON_SCHEMAS_DIR, file), 'utf8'), `${file}: ${STALE}`).toBe(text);
    }
    for (const definition of allDefinitions()) {
      const file = JSON.parse(
        readFileSync(join(PYTHON_SCHEMAS_DIR, `${definition.name}.${definition.version}.json`), 'utf8'),
      ) as Record<string, unknown>;
      const { $schema, self, description, ...schema } = file;
      expect($schema).toMatch(/iglucentral.*self-desc/);
      expect(self).toEqual({
        vendor: 'observatory',
        name: definition.name,
        format: 'jsonschema',
        version: definition.version,
      });
      expect(description).toBe(definition.description);
      expect(schema).toEqual(JSON.parse(JSON.stringify(definition.schema)));
    }
  });

  it('are up to date, as npm run generate -- --check reports', async () => {
    expect(await generate(true)).toEqual([]);
  });
});

describe('The registry generator', () => {
  it("makes each event's highest SchemaVer current and keeps its older versions as previous ones", async () => {
    const source = await eventIndexSource([
      'index.ts',
      'tile_made.1-0-2.ts',
      'tile_made.1-0-10.ts',
      'order_placed.2-0-0.ts',
      'order_placed.1-1-0.ts',
      'user_left.1-0-0.ts',
    ]);
    expect(source).toContain(`import tileMade from './tile_made.1-0-10.ts';`);
    expect(source).toContain(`import tileMadeV1_0_2 from './tile_made.1-0-2.ts';`);
    expect(source).toContain(`import orderPlaced from './order_placed.2-0-0.ts';`);
    expect(source).toContain(
      'export const EVENTS = {\n  order_placed: orderPlaced,\n  tile_made: tileMade,\n  user_left: userLeft,\n} as const;',
    );
    expect(source).toContain(
      'export const PREVIOUS_VERSIONS = [orderPlacedV1_1_0, tileMadeV1_0_2] as const;',
    );
  });

  it('orders SchemaVer versions by number, part by part', () => {
    const versions = ['1-0-10', '2-0-0', '1-0-9', '1-10-0', '1-2-3'];
    expect(versions.sort(compareSchemaVer)).toEqual(['1-0-9', '1-0-10', '1-2-3', '1-10-0', '2-0-0']);
  });

  it.each([
    'SearchMade.1-0-0.ts',
    'search_made.1.0.0.ts',
    'search_made.0-1-0.ts',
    'search_made.ts',
    'notes.md',
  ])('refuses a file named %s, naming it and the expected form', (file) => {
    expect(() => eventFiles(['search_made.1-0-0.ts', file])).toThrow(
      `tracker/events/${file}: an event file is named <name>.<SchemaVer>.ts`,
    );
  });
});
