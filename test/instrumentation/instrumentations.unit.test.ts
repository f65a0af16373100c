/** The curated set: which instrumentations are created, and the module list that decides it matches upstream's. */
import { createRequire } from 'node:module';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { instrumentationConfig } from '../../instrumentation/src/config.ts';
import { CURATED_OFF, instrumentations, TARGETS } from '../../instrumentation/src/instrumentations.ts';

const created: Instrumentation[] = [];
afterEach(() => {
  for (const instrumentation of created.splice(0)) instrumentation.disable();
  vi.unstubAllEnvs();
});

/** The upstream function reads process.env itself; our config module reads the same values. */
function names(env: Record<string, string>): string[] {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  const list = instrumentations(instrumentationConfig(env, () => {}));
  created.push(...list);
  return list.map((i) => i.instrumentationName.replace('@opentelemetry/instrumentation-', ''));
}

describe('The curated instrumentation set', () => {
  it('names the modules each library instrumentation patches exactly as the instrumentation does', () => {
    // Resolved the way the auto-instrumentations package resolves its own dependencies.
    const load = createRequire(
      createRequire(import.meta.url).resolve('@opentelemetry/auto-instrumentations-node'),
    );
    for (const [name, modules] of Object.entries(TARGETS)) {
      const exports = load(`@opentelemetry/instrumentation-${name}`) as Record<string, unknown>;
      const Class = Object.values(exports).find(
        (value): value is new (config: object) => Instrumentation =>
          typeof value === 'function' && /Instrumentation$/.test(value.name),
      )!;
      const instance = new Class({ enabled: false }) as Instrumentation & {
        getModuleDefinitions(): { name: string }[];
      };
      const upstream = [...new Set(instance.getModuleDefinitions().map((d) => d.name))];
      expect(upstream.sort(), name).toEqual([...modules].sort());
    }
  });

  it('creates instrumentations for the libraries installed here, and none for those that are not', () => {
    const on = names({});
    expect(on).toEqual(
      expect.arrayContaining(['http', 'express', 'undici', 'aws-sdk', 'pino', 'runtime-node']),
    );
    // Not installed in this repository: nothing to patch, so not created.
    expect(on).not.toContain('pg');
    expect(on).not.toContain('mongodb');
    for (const off of CURATED_OFF) expect(on).not.toContain(off);
  });

  it('leaves the whole choice to OTEL_NODE_ENABLED_INSTRUMENTATIONS when it is set', () => {
    expect(names({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,pg,fs' }).sort()).toEqual(['fs', 'http', 'pg']);
  });
});
