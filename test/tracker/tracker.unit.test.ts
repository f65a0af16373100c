/**
 * The Tracker in-process, with in-memory exporters: conform, enrich, emit, count — and never throw.
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EVENTS } from '../../tracker/events/index.ts';
import { Tracker, uuidv7Time, type TrackerOptions } from '../../tracker/index.ts';
import { Validators } from '../../tracker/validators.ts';

const logs = new InMemoryLogRecordExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
let loggerProvider: LoggerProvider;
let meterProvider: MeterProvider;
let reader: PeriodicExportingMetricReader;
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  contextManager.disable();
});

beforeEach(() => {
  logs.reset();
  loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: logs })] });
  reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  meterProvider = new MeterProvider({ readers: [reader] });
});

function tracker(options: TrackerOptions = {}): Tracker<typeof EVENTS> {
  return new Tracker({ events: EVENTS, loggerProvider, meterProvider, ...options });
}

async function records(): Promise<ReadableLogRecord[]> {
  await loggerProvider.forceFlush();
  return [...logs.getFinishedLogRecords()];
}

/** The observatory.events counter's points as `outcome/reason/event.name` → value. */
async function eventCounts(): Promise<Record<string, number>> {
  metricExporter.reset();
  await reader.forceFlush();
  const out: Record<string, number> = {};
  for (const batch of metricExporter.getMetrics()) {
    for (const scope of batch.scopeMetrics) {
      for (const metric of scope.metrics.filter((m) => m.descriptor.name === 'observatory.events')) {
        for (const point of (metric as SumMetricData).dataPoints) {
          const a = point.attributes;
          out[`${String(a.outcome)}/${String(a.reason ?? '-')}/${String(a['event.name'])}`] = point.value;
        }
      }
    }
  }
  return out;
}

const attr = (record: ReadableLogRecord, key: string) => record.attributes[key];

describe('Tracker', () => {
  it('emits a valid event as a log record with eventName, the properties as the body and event.* metadata', async () => {
    const obs = tracker();
    const before = Date.now();
    obs.track('search_made', { query: 'ndvi paris', n_results: 12, user_id: 'u-1' });
    const [record] = await records();
    expect(record!.eventName).toBe('search_made');
    expect(record!.body).toEqual({ query: 'ndvi paris', n_results: 12, user_id: 'u-1' });
    expect(attr(record!, 'event.schema_version')).toBe('1-0-0');
    const id = String(attr(record!, 'event.id'));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7Time(id)).toBeGreaterThanOrEqual(before);
    expect(record!.hrTime[0] * 1000 + record!.hrTime[1] / 1e6).toBeGreaterThanOrEqual(before - 1);
    expect(record!.attributes).not.toHaveProperty('event.name');
    expect(Object.keys(record!.attributes).every((key) => key.startsWith('event.'))).toBe(true);
  });

  it('takes the trace and span ID from the active span', async () => {
    const tracer = new TracerProvider().getTracer('test');
    const obs = tracker();
    const ids = tracer.startActiveSpan('request', (span) => {
      obs.track('user_created', { user_id: 'u-2', plan: 'pro' });
      span.end();
      return span.spanContext();
    });
    const [record] = await records();
    expect(record!.spanContext?.traceId).toBe(ids.traceId);
    expect(record!.spanContext?.spanId).toBe(ids.spanId);
  });

  it('gives every event its own time-ordered ID', async () => {
    const obs = tracker();
    for (let i = 0; i < 500; i++)
      obs.track('image_downloaded', { user_id: 'u', img_id: `i${i}`, image_size: i });
    const ids = (await records()).map((r) => String(attr(r, 'event.id')));
    expect(new Set(ids).size).toBe(500);
    expect([...ids].sort()).toEqual(ids);
  });

  it('turns an unknown event into a rejected record with reason unknown_event', async () => {
    const obs = tracker();
    expect(() => obs.track('search_typo' as never, { user_id: 'u' } as never)).not.toThrow();
    const [record] = await records();
    expect(record!.eventName).toBe('search_typo');
    expect(attr(record!, 'event.rejected_reason')).toBe('unknown_event');
    expect(JSON.parse(String(attr(record!, 'event.errors')))[0].message).toMatch(
      /search_typo.*not in the registry/,
    );
    expect(attr(record!, 'event.payload')).toBe('{"user_id":"u"}');
    expect(await eventCounts()).toEqual({ 'rejected/unknown_event/unknown': 1 });
  });

  it('turns a schema violation into a rejected record carrying the ajv errors and the payload', async () => {
    const obs = tracker();
    obs.track('search_made', { query: 'q', n_results: -1, user_id: 'u', debug: true } as never);
    obs.track('job_finished', {
      job_id: 'j',
      kind: 'ndvi',
      status: 'exploded' as never,
      n_chunks: 1,
      n_failed: 0,
      duration_ms: 1.5,
      cost_usd: 0.01,
    });
    const [first, second] = await records();
    expect(attr(first!, 'event.rejected_reason')).toBe('schema_violation');
    expect(JSON.parse(String(attr(first!, 'event.errors')))).toEqual([
      { path: '/', message: 'must NOT have additional properties (debug)' },
      { path: '/n_results', message: 'must be >= 0' },
    ]);
    expect(JSON.parse(String(attr(first!, 'event.payload')))).toEqual({
      query: 'q',
      n_results: -1,
      user_id: 'u',
      debug: true,
    });
    expect(first!.body).toBeUndefined();
    expect(JSON.parse(String(attr(second!, 'event.errors')))[0].path).toBe('/status');
    expect(await eventCounts()).toEqual({
      'rejected/schema_violation/search_made': 1,
      'rejected/schema_violation/job_finished': 1,
    });
  });

  it('rejects an event over 32 KB as size_violation and truncates its payload to the attribute limit', async () => {
    const obs = tracker();
    obs.track('search_made', { query: 'x'.repeat(40_000), n_results: 1, user_id: 'u' });
    const [record] = await records();
    expect(attr(record!, 'event.rejected_reason')).toBe('size_violation');
    expect(String(attr(record!, 'event.payload'))).toHaveLength(4096);
    expect(attr(record!, 'event.payload_truncated')).toBe(true);
    expect(String(attr(record!, 'event.errors'))).toMatch(/over the limit of 32768/);
  });

  it('rejects an event with thousands of unknown properties under the size limit, keeping the first errors and counting the rest', async () => {
    const obs = tracker();
    const properties: Record<string, unknown> = { query: 'q', n_results: -1, user_id: 'u' };
    for (let i = 0; i < 3777; i++) properties[`x${i.toString(36)}`] = 0;
    expect(JSON.stringify(properties).length).toBeLessThan(32_768);
    obs.track('search_made', properties as never);
    const [record] = await records();
    expect(attr(record!, 'event.rejected_reason')).toBe('schema_violation');
    const errors = JSON.parse(String(attr(record!, 'event.errors'))) as { path: string; message: string }[];
    expect(errors.length).toBeLessThanOrEqual(21);
    expect(errors[0]).toEqual({ path: '/', message: 'must NOT have additional properties (x0)' });
    expect(errors).toContainEqual({ path: '/n_results', message: 'must be >= 0' });
    const kept = errors.length - 1;
    expect(errors.at(-1)).toEqual({ path: '', message: `${3778 - kept} more errors left out` });
    expect(await eventCounts()).toEqual({ 'rejected/schema_violation/search_made': 1 });
  });

  it('keeps at most 20 validation errors of an event and counts the ones it leaves out', () => {
    const properties: Record<string, unknown> = { query: 'q', n_results: 1, user_id: 'u' };
    for (let i = 0; i < 500; i++) properties[`x${i}`] = 0;
    const validation = new Validators().validate(EVENTS.search_made, properties);
    expect(validation.valid).toBe(false);
    expect(validation.errors).toHaveLength(20);
    expect(validation.errors.at(-1)!.message).toBe('must NOT have additional properties (x19)');
    expect(validation.omitted).toBe(480);
  });

  it('never throws, whatever the caller passes', async () => {
    const obs = tracker();
    const circular: Record<string, unknown> = { user_id: 'u' };
    circular.self = circular;
    const calls: [unknown, unknown][] = [
      ['search_made', undefined],
      ['search_made', null],
      ['search_made', 'a string'],
      ['search_made', circular],
      ['search_made', { query: 'q', n_results: 10n, user_id: 'u' }],
      [undefined, {}],
      [42, {}],
      ['', {}],
      ['__proto__', {}],
      ['toString', {}],
    ];
    for (const [name, properties] of calls)
      expect(() => obs.track(name as never, properties as never)).not.toThrow();
    const got = await records();
    expect(got).toHaveLength(calls.length);
    expect(got.every((r) => attr(r, 'event.rejected_reason') !== undefined)).toBe(true);
    expect(got.map((r) => r.eventName)).toContain('_invalid_name');
    expect(obs.counts()).toEqual({ accepted: 0, rejected: calls.length, dropped: 0 });
  });

  it('never throws when the SDK underneath does, and counts the event as dropped', async () => {
    const broken = {
      getLogger: () => ({
        emit: () => {
          throw new Error('exporter on fire');
        },
        enabled: () => true,
      }),
    };
    const obs = new Tracker({ events: EVENTS, loggerProvider: broken, meterProvider });
    expect(() => obs.track('user_created', { user_id: 'u' })).not.toThrow();
    expect(obs.counts()).toEqual({ accepted: 0, rejected: 0, dropped: 1 });
    expect(await eventCounts()).toEqual({ 'dropped/internal_error/user_created': 1 });
  });

  it('counts accepted events by name in observatory.events', async () => {
    const obs = tracker();
    obs.track('user_created', { user_id: 'a' });
    obs.track('user_created', { user_id: 'b' });
    obs.track('job_started', { job_id: 'j', kind: 'ndvi', n_chunks: 4 });
    expect(await eventCounts()).toEqual({ 'accepted/-/user_created': 2, 'accepted/-/job_started': 1 });
  });

  it('skips run-time validation when told to, but still checks the size', async () => {
    const obs = tracker({ validate: false, maxEventBytes: 1024 });
    obs.track('search_made', { query: 'q', n_results: -1, user_id: 'u' });
    obs.track('search_made', { query: 'y'.repeat(2000), n_results: 1, user_id: 'u' });
    const [valid, big] = await records();
    expect(attr(valid!, 'event.rejected_reason')).toBeUndefined();
    expect(attr(big!, 'event.rejected_reason')).toBe('size_violation');
  });

  it('drops and counts events tracked after shutdown, and reports them in the result', async () => {
    const obs = tracker();
    obs.track('user_created', { user_id: 'a' });
    const first = await obs.shutdown(1000);
    expect(first).toMatchObject({
      completed: true,
      events: { accepted: 1, rejected: 0, dropped: 0 },
      dropped: 0,
    });
    obs.track('user_created', { user_id: 'late' });
    expect(await records()).toHaveLength(1);
    const later = await obs.flush(1000);
    expect(later.events.dropped).toBe(1);
    expect(later.dropped).toBe(1);
    expect(await eventCounts()).toMatchObject({ 'dropped/shutdown/user_created': 1 });
  });

  it('copies the properties, so a caller reusing its object does not change a queued event', async () => {
    const obs = tracker();
    const properties = { user_id: 'before' };
    obs.track('user_created', properties);
    properties.user_id = 'after';
    const [record] = await records();
    expect(record!.body).toEqual({ user_id: 'before' });
  });
});
