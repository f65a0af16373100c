/**
 * Library instrumentations are created when the app first loads their library, not when the preload starts: an app
 * that loads a library late still gets its spans (CommonJS `require` and ES `import` alike), and a process that
 * never loads a library never loads its instrumentation's package. The standard variables still choose the set.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { packageOf } from '../../instrumentation/src/first-load.ts';
import { pollUntil } from '../support/poll.ts';
import { startReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { spawnNode } from '../support/spawn.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0)) await step();
});

/** Installed in this repository, so the preload chooses them; the fixture apps load only Express (and pino). */
const NEVER_LOADED = ['aws-sdk', 'grpc'];

/** Runs a fixture under the preload; its BEFORE/AFTER lists, and a request's server span read back. */
async function run(fixture: string, env: Record<string, string> = {}) {
  const receiver: OtlpReceiver = await startReceiver();
  cleanup.push(() => receiver.close());
  const app = spawnNode(['--require', './instrumentation', `test/instrumentation/fixtures/${fixture}`], {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_BLRP_SCHEDULE_DELAY: '100',
    OTEL_SERVICE_NAME: 'deferred',
    ...env,
  });
  cleanup.push(() => app.stop());
  const list = async (label: string) =>
    JSON.parse((await app.waitForLine(new RegExp(`^${label} (.*)$`)))[1]!) as string[];
  const before = await list('BEFORE');
  const after = await list('AFTER');
  const [, port] = await app.waitForLine(/^LISTENING (\d+)$/);
  expect((await fetch(`http://127.0.0.1:${port}/scenes/late-1`)).status).toBe(200);
  const server = await pollUntil('the server span of GET /scenes/late-1 at the receiver', () =>
    Promise.resolve(receiver.spans().find((span) => span.attributes['url.path'] === '/scenes/late-1')),
  );
  return { before, after, server, receiver };
}

describe('A library instrumentation under the preload', () => {
  it(
    'is created when a CommonJS app requires the library late, and patches that first require',
    { timeout: 60_000 },
    async () => {
      const { before, after, server } = await run('late-library-app.cjs');
      expect(before).toContain('http');
      expect(before).not.toContain('express');
      expect(after).toContain('express');
      expect(server.attributes['http.route']).toBe('/scenes/:id');
      expect(server.name).toBe('GET /scenes/:id');
    },
  );

  it(
    'is created when an ES-module app imports the library late, and its logs carry the request trace',
    { timeout: 60_000 },
    async () => {
      const { before, after, server, receiver } = await run('late-library-app.mjs');
      expect(before).not.toContain('express');
      expect(before).not.toContain('pino');
      expect(after).toContain('express');
      expect(server.attributes['http.route']).toBe('/scenes/:id');
      const record = await pollUntil('the log record of the request at the receiver', () =>
        Promise.resolve(
          receiver.requests
            .flatMap((r) => r.json?.resourceLogs ?? [])
            .flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords))
            .find((r) => r.body?.stringValue === 'scene requested'),
        ),
      );
      expect(record.traceId).toBe(server.traceId);
    },
  );

  it('is never loaded by a process that does not load its library', { timeout: 60_000 }, async () => {
    const { before, after } = await run('late-library-app.cjs');
    for (const name of NEVER_LOADED) {
      expect(before).not.toContain(name);
      expect(after).not.toContain(name);
    }
  });

  it(
    'is left out when OTEL_NODE_DISABLED_INSTRUMENTATIONS names it, even once its library loads',
    { timeout: 60_000 },
    async () => {
      const { after, server } = await run('late-library-app.cjs', {
        OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'express',
      });
      expect(after).not.toContain('express');
      expect(server.attributes['http.route']).toBeUndefined();
    },
  );

  it(
    'is created for a library OTEL_NODE_ENABLED_INSTRUMENTATIONS names, once the library loads',
    { timeout: 60_000 },
    async () => {
      const { before, after, server } = await run('late-library-app.cjs', {
        OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,express',
      });
      expect(before).toEqual(['http']);
      expect(after).toEqual(['express', 'http']);
      expect(server.attributes['http.route']).toBe('/scenes/:id');
    },
  );
});

describe('The package a specifier loads', () => {
  it('is the first segment of a bare name, or the first two of a scoped one', () => {
    expect(packageOf('pg')).toBe('pg');
    expect(packageOf('pg/lib/client')).toBe('pg');
    expect(packageOf('@smithy/core')).toBe('@smithy/core');
    expect(packageOf('@smithy/core/dist-cjs/index.js')).toBe('@smithy/core');
  });

  it('is none for relative and absolute paths, URLs and built-ins', () => {
    for (const specifier of [
      './pg',
      '../pg',
      '/app/node_modules/pg/index.js',
      'file:///app/x.js',
      'node:http',
      '@scope',
      '',
    ])
      expect(packageOf(specifier), specifier).toBeUndefined();
  });
});
