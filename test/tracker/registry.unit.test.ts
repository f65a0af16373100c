/**
 * The registry: one file per event version, every file registered, types checked by the compiler (this file is
 * type-checked by `npm run typecheck`; each @ts-expect-error below fails the check if the call compiles).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { EVENTS } from '../../tracker/events/index.ts';
import { Tracker, uuidv7, uuidv7Time } from '../../tracker/index.ts';
import { allDefinitions, propertyColumns } from '../../tracker/registry.ts';

describe('The event registry', () => {
  it('lists every event file in tracker/events/, each under its own name and version', () => {
    const files = readdirSync(join(REPO_ROOT, 'tracker', 'events')).filter((f) => f !== 'index.ts');
    const registered = allDefinitions().map((d) => `${d.name}.${d.version}.ts`);
    expect(registered.sort()).toEqual(files.sort());
    for (const [key, definition] of Object.entries(EVENTS)) expect(definition.name).toBe(key);
  });

  it('gives each property name one lake column type across all events', () => {
    expect(() => propertyColumns()).not.toThrow();
    expect(propertyColumns().get('n_results')).toBe('BIGINT');
    expect(propertyColumns().get('date')).toBe('DATE');
    expect(propertyColumns().get('cost_usd')).toBe('DOUBLE');
  });

  it('makes the compiler check event names and property types', () => {
    const obs = new Tracker({
      events: EVENTS,
      loggerProvider: new LoggerProvider({
        processors: [new SimpleLogRecordProcessor({ exporter: new InMemoryLogRecordExporter() })],
      }),
    });
    obs.track('search_made', { query: 'q', n_results: 1, user_id: 'u' });
    obs.track('user_created', { user_id: 'u' });
    obs.track('job_finished', {
      job_id: 'j',
      kind: 'ndvi',
      status: 'partial',
      n_chunks: 2,
      n_failed: 1,
      duration_ms: 10,
      cost_usd: 0.1,
    });
    // @ts-expect-error: not a registered event
    obs.track('search_maed', { query: 'q', n_results: 1, user_id: 'u' });
    // @ts-expect-error: n_results must be a number
    obs.track('search_made', { query: 'q', n_results: '1', user_id: 'u' });
    // @ts-expect-error: user_id is required
    obs.track('image_downloaded', { img_id: 'i', image_size: 1 });
    // @ts-expect-error: unknown property
    obs.track('user_created', { user_id: 'u', email: 'x' });
    obs.track('job_finished', {
      job_id: 'j',
      kind: 'k',
      // @ts-expect-error: status is done|partial|failed
      status: 'ok',
      n_chunks: 1,
      n_failed: 0,
      duration_ms: 1,
      cost_usd: 0,
    });
    expect(obs.counts()).toEqual({ accepted: 3, rejected: 5, dropped: 0 });
  });
});

describe('uuidv7', () => {
  it('encodes the creation time, version 7 and the RFC variant', () => {
    // Ahead of any ID made earlier in this process: IDs never go back in time.
    const at = Date.now() + 86_400_000;
    const id = uuidv7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7Time(id)).toBe(at);
  });

  it('keeps IDs strictly increasing within one millisecond and when the clock steps back', () => {
    const at = Date.now() + 2 * 86_400_000;
    const ids = [...Array.from({ length: 5000 }, () => uuidv7(at)), uuidv7(at - 1000), uuidv7(at + 500)];
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });
});
