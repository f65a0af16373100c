/**
 * Raw OTLP JSON log records to lake rows (lake/flatten.ts), as the Collector's awss3 exporter writes them: typed
 * property columns from the registry, resource and trace columns, OTLP's quirks (int64 as strings, IDs as hex, empty
 * when unset), and records that cannot be trusted turned into rejected rows with the reason and the errors.
 */
import { describe, expect, it } from 'vitest';
import { decodeAnyValue, Flattener, type OtlpLogsDocument } from '../../lake/flatten.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
/** 2026-06-01T12:34:56.789Z in nanoseconds, as OTLP JSON sends int64: a string. */
const NANOS = '1780317296789000000';

const str = (stringValue: string) => ({ stringValue });
const kv = (key: string, value: object) => ({ key, value });

type LogRecord = NonNullable<
  NonNullable<NonNullable<OtlpLogsDocument['resourceLogs']>[number]['scopeLogs']>[number]['logRecords']
>[number];

function document(...records: LogRecord[]): OtlpLogsDocument {
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [
            kv('service.name', str('gateway')),
            kv('service.version', str('1.2.3')),
            kv('deployment.environment.name', str('test')),
          ],
        },
        scopeLogs: [{ logRecords: records }],
      },
    ],
  };
}

const searchMade = (overrides: Partial<LogRecord> = {}): LogRecord => ({
  timeUnixNano: NANOS,
  eventName: 'search_made',
  traceId: TRACE,
  spanId: SPAN,
  attributes: [
    kv('event.id', str('0190a000-0000-7000-8000-000000000001')),
    kv('event.schema_version', str('1-0-0')),
  ],
  body: {
    kvlistValue: {
      values: [kv('query', str('wheat')), kv('n_results', { intValue: '3' }), kv('user_id', str('u1'))],
    },
  },
  ...overrides,
});

describe('Flattening OTLP JSON log records into lake rows', () => {
  it('turns a valid event into an events row with common, typed and JSON property columns', () => {
    const result = new Flattener().flatten(document(searchMade()));
    expect(result.records).toBe(1);
    expect(result.rejected).toEqual([]);
    expect(result.events).toEqual([
      {
        event_id: '0190a000-0000-7000-8000-000000000001',
        event_name: 'search_made',
        schema_version: '1-0-0',
        event_time: '2026-06-01 12:34:56.789',
        dt: '2026-06-01',
        trace_id: TRACE,
        span_id: SPAN,
        service_name: 'gateway',
        service_version: '1.2.3',
        deployment_environment: 'test',
        user_id: 'u1',
        properties: '{"query":"wheat","n_results":3,"user_id":"u1"}',
        typed: { query: 'wheat', n_results: 3 },
      },
    ]);
  });

  it('leaves trace and span IDs empty when there was no active span, and uses the observed time if no time', () => {
    const result = new Flattener().flatten(
      document(searchMade({ traceId: '', spanId: '', timeUnixNano: '0', observedTimeUnixNano: NANOS })),
    );
    expect(result.events[0]).toMatchObject({
      trace_id: null,
      span_id: null,
      event_time: '2026-06-01 12:34:56.789',
    });
  });

  it('validates against the current version when the record names none', () => {
    const record = searchMade({ attributes: [kv('event.id', str('0190a000-0000-7000-8000-000000000002'))] });
    expect(new Flattener().flatten(document(record)).events[0]!.schema_version).toBe('1-0-0');
  });

  it('gives a record without an event ID a content hash as ID, the same for the same record redelivered', () => {
    const record = searchMade({ attributes: [kv('event.schema_version', str('1-0-0'))] });
    const first = new Flattener().flatten(document(record)).events[0]!.event_id;
    const again = new Flattener().flatten(document(structuredClone(record))).events[0]!.event_id;
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(again).toBe(first);
    const other = searchMade({
      attributes: [kv('event.schema_version', str('1-0-0'))],
      spanId: 'ffffffffffffffff',
    });
    expect(new Flattener().flatten(document(other)).events[0]!.event_id).not.toBe(first);
  });

  it.each([
    [
      'an unknown event',
      searchMade({ eventName: 'search_maed' }),
      'unknown_event',
      'event "search_maed" is not in the registry',
    ],
    [
      'an unknown version of a known event',
      searchMade({ attributes: [kv('event.schema_version', str('9-9-9'))] }),
      'unknown_schema_version',
      'event search_made has no registered version 9-9-9',
    ],
    [
      'properties that break the schema',
      searchMade({
        body: {
          kvlistValue: {
            values: [kv('query', str('wheat')), kv('n_results', str('three')), kv('user_id', str('u1'))],
          },
        },
      }),
      'schema_violation',
      'n_results',
    ],
  ])(
    'turns %s into a rejected row with the reason, the errors and the payload',
    (_, record, reason, error) => {
      const result = new Flattener().flatten(document(record));
      expect(result.events).toEqual([]);
      expect(result.rejected).toHaveLength(1);
      const row = result.rejected[0]!;
      expect(row).toMatchObject({
        reason,
        user_id: 'u1',
        payload_truncated: false,
        trace_id: TRACE,
        dt: '2026-06-01',
      });
      const errors = JSON.parse(row.errors) as { path: string; message: string }[];
      expect(errors.map((e) => `${e.path} ${e.message}`).join('\n')).toContain(error);
      expect(JSON.parse(row.payload)).toMatchObject({ query: 'wheat', user_id: 'u1' });
    },
  );

  it('keeps a record the Tracker already rejected as a rejected row, with its reason and truncated payload', () => {
    const record = searchMade({
      body: undefined,
      attributes: [
        kv('event.id', str('0190a000-0000-7000-8000-000000000003')),
        kv('event.rejected_reason', str('size_violation')),
        kv('event.errors', str('[{"path":"","message":"over 32 KB"}]')),
        kv('event.payload', str('{"user_id":"u9","query":"aaaa')),
        kv('event.payload_truncated', { boolValue: true }),
      ],
    });
    const [row] = new Flattener().flatten(document(record)).rejected;
    expect(row).toMatchObject({
      event_id: '0190a000-0000-7000-8000-000000000003',
      reason: 'size_violation',
      errors: '[{"path":"","message":"over 32 KB"}]',
      payload: '{"user_id":"u9","query":"aaaa',
      payload_truncated: true,
      // A truncated payload is no longer JSON: no user ID can be read from it.
      user_id: null,
    });
  });

  it('counts every record across resources and scopes', () => {
    const doc = document(searchMade(), searchMade({ eventName: 'nope' }));
    doc.resourceLogs!.push({ scopeLogs: [{ logRecords: [searchMade()] }, {}] }, {});
    const result = new Flattener().flatten(doc);
    expect(result.records).toBe(3);
    expect(result.events).toHaveLength(2);
    expect(result.rejected).toHaveLength(1);
    expect(result.events[1]!.service_name).toBeNull();
  });
});

describe('decodeAnyValue', () => {
  it('decodes every OTLP value type, int64 strings as numbers while they are safe integers', () => {
    expect(decodeAnyValue({ intValue: '42' })).toBe(42);
    expect(decodeAnyValue({ intValue: '9007199254740993' })).toBe('9007199254740993');
    expect(decodeAnyValue({ doubleValue: '1.5' })).toBe(1.5);
    expect(decodeAnyValue({ boolValue: false })).toBe(false);
    expect(decodeAnyValue({ bytesValue: 'AAE=' })).toBe('AAE=');
    expect(decodeAnyValue({ arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }] } })).toEqual([
      'a',
      1,
    ]);
    expect(decodeAnyValue({ kvlistValue: { values: [kv('a', { arrayValue: {} })] } })).toEqual({ a: [] });
    expect(decodeAnyValue(undefined)).toBeNull();
    expect(decodeAnyValue({})).toBeNull();
  });
});
