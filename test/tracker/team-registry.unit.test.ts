/**
 * A team's own registry, the way the @observatory/tracker package is used (tracker/index.ts): `defineEvents` holds
 * it to our rules, and the Tracker built on it types, validates, rejects and enriches exactly as ours does. This file
 * is type-checked by `npm run typecheck`; each @ts-expect-error fails the check if the call compiles.
 */
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { defineEvent, defineEvents, Tracker, type EventDefinition } from '../../tracker/index.ts';

const orderPlaced = defineEvent({
  name: 'order_placed',
  version: '1-0-0',
  description: 'A customer placed an order.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['order_id'],
    properties: { order_id: { type: 'string' }, items: { type: 'integer', minimum: 1 } },
  },
});
const EVENTS = defineEvents({ order_placed: orderPlaced });

function teamTracker() {
  const exporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
  const tracker = new Tracker({ events: EVENTS, loggerProvider, meterProvider: new MeterProvider() });
  return { tracker, exporter };
}

describe("A team's own event registry", () => {
  it('types track() from the team schemas, and validates, enriches and rejects like ours', () => {
    const { tracker, exporter } = teamTracker();
    tracker.track('order_placed', { order_id: 'o-1', items: 2 });
    // @ts-expect-error: not an event of this registry (ours are not in it either)
    tracker.track('search_made', { query: 'q' });
    // @ts-expect-error: items must be an integer
    tracker.track('order_placed', { order_id: 'o-2', items: 'two' });
    tracker.track('order_placed', { order_id: 'o-3', items: 0 });

    const [accepted, unknown, wrongType, tooFew] = exporter.getFinishedLogRecords();
    expect(accepted!.eventName).toBe('order_placed');
    expect(accepted!.body).toEqual({ order_id: 'o-1', items: 2 });
    expect(accepted!.attributes['event.schema_version']).toBe('1-0-0');
    expect(accepted!.attributes['event.id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(unknown!.attributes['event.rejected_reason']).toBe('unknown_event');
    expect(wrongType!.attributes['event.rejected_reason']).toBe('schema_violation');
    expect(tooFew!.attributes['event.rejected_reason']).toBe('schema_violation');
    expect(tracker.counts()).toEqual({ accepted: 1, rejected: 3, dropped: 0 });
  });

  it.each([
    [{ placed: orderPlaced }, 'registered under a key other than its name'],
    [{ order_placed: { ...orderPlaced, version: '1.0' } }, 'is not SchemaVer'],
    [{ OrderPlaced: { ...orderPlaced, name: 'OrderPlaced' } }, 'must be snake_case'],
    [
      {
        order_placed: orderPlaced,
        order_shipped: {
          ...orderPlaced,
          name: 'order_shipped',
          schema: { ...orderPlaced.schema, properties: { order_id: { type: 'integer' } } },
        },
      },
      'property order_id has another type',
    ],
    [
      { order_placed: { ...orderPlaced, schema: { ...orderPlaced.schema, required: ['order_id', 'sku'] } } },
      'required property sku is not declared',
    ],
  ] as [Record<string, EventDefinition>, string][])(
    'refuses a registry that breaks a rule (%#: %s)',
    (events, message) => {
      expect(() => defineEvents(events)).toThrow(message);
    },
  );
});
