/** The curated set: which instrumentations are created, and the module list that decides it matches upstream's. */
import { createRequire } from 'node:module';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { instrumentationConfig } from '../../instrumentation/src/config.ts';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/paths.ts';
import {
  CURATED_OFF,
  instrumentations,
  TARGETS,
  UPSTREAM,
} from '../../instrumentation/src/instrumentations.ts';

const FIXTURE = join(REPO_ROOT, 'test', 'instrumentation', 'fixtures', 'list-modules.cjs');
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
  it('knows every instrumentation upstream ships, each by the class its package exports', () => {
    const upstreamPath = createRequire(import.meta.url).resolve('@opentelemetry/auto-instrumentations-node');
    const manifest = JSON.parse(
      readFileSync(upstreamPath.replace(/dist\/index\.c?js$/, 'package.json'), 'utf8'),
    ) as { dependencies: Record<string, string> };
    const shipped = Object.keys(manifest.dependencies)
      .filter((name) => name.startsWith('@opentelemetry/instrumentation-'))
      .map((name) => name.replace('@opentelemetry/instrumentation-', ''));
    expect(Object.keys(UPSTREAM).sort()).toEqual(shipped.sort());
    const load = createRequire(upstreamPath);
    for (const [name, className] of Object.entries(UPSTREAM)) {
      const exports = load(`@opentelemetry/instrumentation-${name}`) as Record<string, unknown>;
      expect(typeof exports[className], `${name} exports ${className}`).toBe('function');
    }
  });

  it('loads only the packages its configuration chooses: no gRPC over HTTP, no instrumentation of absent libraries', () => {
    const loaded = (env: Record<string, string>) =>
      (
        JSON.parse(
          execFileSync(process.execPath, ['--require', './instrumentation', FIXTURE], {
            cwd: REPO_ROOT,
            env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...env },
          }).toString(),
        ) as string[]
      ).map((file) => file.match(/node_modules\/(@opentelemetry\/[^/]+|@grpc\/grpc-js)\//)?.[1] ?? '');
    const proto = loaded({});
    expect(proto).toEqual(
      expect.arrayContaining([
        '@opentelemetry/instrumentation-http',
        '@opentelemetry/exporter-trace-otlp-proto',
      ]),
    );
    expect(
      proto.filter((name) =>
        /@grpc\/grpc-js|otlp-grpc|exporter-.*-otlp-http|instrumentation-(pg|mongodb|kafkajs)$/.test(name),
      ),
    ).toEqual([]);
    const grpc = loaded({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http' });
    expect(grpc).toEqual(
      expect.arrayContaining(['@opentelemetry/exporter-trace-otlp-grpc', '@grpc/grpc-js']),
    );
    expect(grpc.filter((name) => /exporter-.*-otlp-proto|instrumentation-express$/.test(name))).toEqual([]);
  });

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
