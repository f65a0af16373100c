/**
 * An ES-module Express app under `--require ./instrumentation` (no `--import`): the preload registers the ES module
 * loader hook after it has started the SDK (index.js, so that the SDK's own modules are not wrapped), and Express,
 * imported by the app afterwards, is still patched: its server span names the route. The hook itself is loaded at
 * the first ES module load (src/esm-hook.ts): a CommonJS app whose first one is `import('express')` is patched too,
 * and a CommonJS app that imports nothing never loads it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { pollUntil } from '../support/poll.ts';
import { startReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { spawnNode, type RunningApp } from '../support/spawn.ts';

const LIST_MODULES = join(REPO_ROOT, 'test', 'instrumentation', 'fixtures', 'list-modules.cjs');
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0)) await step();
});

async function expectRoute(fixture: string, id: string): Promise<void> {
  const receiver: OtlpReceiver = await startReceiver();
  cleanup.push(() => receiver.close());
  const app: RunningApp = spawnNode(
    ['--require', './instrumentation', `test/instrumentation/fixtures/${fixture}`],
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'esm-require',
    },
  );
  cleanup.push(() => app.stop());
  const [, port] = await app.waitForLine(/^LISTENING (\d+)$/);
  expect((await fetch(`http://127.0.0.1:${port}/scenes/${id}`)).status).toBe(200);
  const server = await pollUntil(`the server span of GET /scenes/${id} at the receiver`, () =>
    Promise.resolve(receiver.spans().find((span) => span.attributes['url.path'] === `/scenes/${id}`)),
  );
  expect(server.attributes['http.route']).toBe('/scenes/:id');
  expect(server.name).toBe('GET /scenes/:id');
}

describe('The preload under --require', () => {
  it('names the Express route on the server span of an ES-module app', { timeout: 60_000 }, async () => {
    await expectRoute('esm-app.mjs', 'esm-1');
  });

  it(
    'names it when a CommonJS app first loads an ES module by importing Express',
    { timeout: 60_000 },
    async () => {
      await expectRoute('import-express-app.cjs', 'esm-2');
    },
  );

  it('never loads the ES module hook in a CommonJS app that imports nothing', { timeout: 60_000 }, () => {
    const files = JSON.parse(
      execFileSync(process.execPath, ['--require', './instrumentation', LIST_MODULES], {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
          OTEL_SERVICE_NAME: 'esm-require',
        },
      }).toString(),
    ) as string[];
    // ES modules loaded through require are listed (the hook's own version check is one of them)…
    expect(files.some((file) => file.endsWith('import-in-the-middle/supports-sync-hooks.mjs'))).toBe(true);
    // …and the hook, with acorn and cjs-module-lexer, is not.
    expect(files.filter((file) => /import-in-the-middle\/create-hook\.mjs|\/acorn\//.test(file))).toEqual([]);
  });
});
