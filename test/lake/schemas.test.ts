/**
 * The registry beside the data, against the stack's bucket: `observatory schemas publish --dir` publishes a team's
 * events, defined in TypeScript in a folder outside this repository, under schemas/<vendor>/<name>/jsonschema/<version>;
 * publishing again changes nothing, a changed schema under a published version and another vendor's event name are
 * refused with the reason; and the lake's flattening validates the team's events against what is published: a
 * published event is an events row, an unpublished one a rejected row with reason unknown_event.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { schemasCommand } from '../../cli/schemas/command.ts';
import { S3Store } from '../../common/s3-store.ts';
import { gzipSync } from 'node:zlib';
import { compact, Flattener, queryLake, type OtlpLogsDocument } from '../../lake/index.ts';
import { uuidv7 } from '../../tracker/index.ts';
import { recentRawPrefixes } from '../support/lake.ts';
import { publishedDefinitions, type PublishResult } from '../../lake/schemas.ts';
import { tempFolder } from '../support/team.ts';

const suffix = randomBytes(4).toString('hex');
const vendor = `orders-${suffix}`;
const placed = `order_placed_${suffix}`;
const team = tempFolder('schemas');
afterAll(() => team.remove());

/** The team's repository: a package.json naming it and an event file as `observatory new service` writes one. */
function writeTeamRepository(maxItems: number): string {
  const events = join(team.dir, 'src', 'events');
  mkdirSync(events, { recursive: true });
  writeFileSync(
    join(team.dir, 'package.json'),
    JSON.stringify({ name: `@acme/${vendor}`, version: '0.1.0' }),
  );
  writeFileSync(
    join(events, `${placed}.1-0-0.ts`),
    `export default {
  name: '${placed}',
  version: '1-0-0',
  description: 'A customer placed an order.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['order_id', 'n_items'],
    properties: {
      order_id: { type: 'string' },
      n_items: { type: 'integer', minimum: 1, maximum: ${maxItems} },
    },
  },
} as const;
`,
  );
  return events;
}

async function publish(args: string[]): Promise<{ code: number; results: PublishResult[]; err: string }> {
  let out = '';
  let err = '';
  const code = await schemasCommand(['publish', ...args, '--json'], {
    out: (text) => (out += text),
    err: (text) => (err += text),
  });
  return { code, results: out ? (JSON.parse(out) as PublishResult[]) : [], err };
}

/** One OTLP logs document with an event record as a Tracker sends it. */
function eventDocument(
  name: string,
  properties: Record<string, string | number>,
  id = '0193a8f0-0000-7000-8000-000000000001',
): OtlpLogsDocument {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: vendor } }] },
        scopeLogs: [
          {
            logRecords: [
              {
                timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                eventName: name,
                body: {
                  kvlistValue: {
                    values: Object.entries(properties).map(([key, value]) => ({
                      key,
                      value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value },
                    })),
                  },
                },
                attributes: [
                  { key: 'event.id', value: { stringValue: id } },
                  { key: 'event.schema_version', value: { stringValue: '1-0-0' } },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('Publishing a team registry beside the data', () => {
  it("publishes a team's TypeScript events under the vendor of its package.json, and again changes nothing", async () => {
    const dir = writeTeamRepository(100);
    const first = await publish(['--dir', dir]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.results).toEqual([
      {
        key: `schemas/${vendor}/${placed}/jsonschema/1-0-0`,
        name: placed,
        version: '1-0-0',
        outcome: 'published',
      },
    ]);
    const stored = await S3Store.fromSettings().getJson<Record<string, unknown>>(first.results[0]!.key);
    expect(stored).toMatchObject({
      self: { vendor, name: placed, format: 'jsonschema', version: '1-0-0' },
      required: ['order_id', 'n_items'],
    });
    const again = await publish(['--dir', dir]);
    expect(again.code).toBe(0);
    expect(again.results.map((r) => r.outcome)).toEqual(['unchanged']);
  });

  it('refuses a changed schema under a published version, saying to publish a new version', async () => {
    const dir = writeTeamRepository(50);
    const changed = await publish(['--dir', dir]);
    expect(changed.code).toBe(1);
    expect(changed.results).toHaveLength(1);
    expect(changed.results[0]!.outcome).toBe('refused');
    expect(changed.results[0]!.reason).toMatch(/published version never changes.*new version/);
  });

  it("refuses another vendor's event name, and one of ours", async () => {
    const dir = writeTeamRepository(100);
    const other = await publish(['--dir', dir, '--vendor', `thieves-${suffix}`]);
    expect(other.code).toBe(1);
    expect(other.results[0]!.reason).toBe(
      `event ${placed} belongs to vendor ${vendor}; an event name has one owner`,
    );

    const ours = join(team.dir, 'ours');
    mkdirSync(ours, { recursive: true });
    writeFileSync(
      join(ours, 'search_made.9-0-0.ts'),
      `export default { name: 'search_made', version: '9-0-0', description: '', schema: { type: 'object', additionalProperties: false, required: [], properties: {} } };\n`,
    );
    const taken = await publish(['--dir', ours]);
    expect(taken.results[0]!.reason).toMatch(/belongs to vendor observatory/);
  });

  it('makes the lake accept a published team event as an events row, and file an unpublished one as unknown_event', async () => {
    const flattener = new Flattener({ published: await publishedDefinitions(S3Store.fromSettings()) });
    const accepted = flattener.flatten(eventDocument(placed, { order_id: 'o-1', n_items: 3 }));
    expect(accepted.rejected).toEqual([]);
    expect(accepted.events).toHaveLength(1);
    expect(accepted.events[0]).toMatchObject({
      event_name: placed,
      schema_version: '1-0-0',
      service_name: vendor,
      typed: {},
    });
    expect(JSON.parse(accepted.events[0]!.properties)).toEqual({ order_id: 'o-1', n_items: 3 });

    const invalid = flattener.flatten(eventDocument(placed, { order_id: 'o-2', n_items: 0 }));
    expect(invalid.rejected.map((r) => [r.reason, r.errors])).toEqual([
      ['schema_violation', JSON.stringify([{ path: '/n_items', message: 'must be >= 1' }])],
    ]);
    const unpublished = flattener.flatten(eventDocument(`order_cancelled_${suffix}`, { order_id: 'o-3' }));
    expect(unpublished.events).toEqual([]);
    expect(unpublished.rejected.map((r) => r.reason)).toEqual(['unknown_event']);
  });

  it('makes compaction file a published team event in curated events and an unpublished one in rejected', async () => {
    const store = S3Store.fromSettings();
    const cancelled = `order_cancelled_${suffix}`;
    const [good, unknown] = [uuidv7(), uuidv7()];
    const key = `${recentRawPrefixes()[0]}schemas-test-${suffix}.json.gz`;
    const documents = [
      eventDocument(placed, { order_id: 'o-9', n_items: 2 }, good),
      eventDocument(cancelled, { order_id: 'o-9' }, unknown),
    ];
    const merged = { resourceLogs: documents.flatMap((d) => d.resourceLogs) };
    await store.put(key, gzipSync(JSON.stringify(merged)), 'application/json');
    await compact([key], { store });
    const events = await queryLake(`SELECT event_name, properties FROM events WHERE event_id = '${good}'`, {
      store,
    });
    expect(events.rows).toHaveLength(1);
    expect(events.rows[0]!.event_name).toBe(placed);
    const properties = events.rows[0]!.properties;
    expect(typeof properties === 'string' ? JSON.parse(properties) : properties).toEqual({
      order_id: 'o-9',
      n_items: 2,
    });
    const rejected = await queryLake(
      `SELECT event_name, reason FROM rejected WHERE event_id = '${unknown}'`,
      {
        store,
      },
    );
    expect(rejected.rows).toEqual([{ event_name: cancelled, reason: 'unknown_event' }]);
  });
});
