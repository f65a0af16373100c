/**
 * An ES-module Express app under `--require ./instrumentation` (no `--import`): the preload registers the ES module
 * loader hook after it has started the SDK (index.js, so that the SDK's own modules are not wrapped), and Express,
 * imported by the app afterwards, is still patched: its server span names the route.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pollUntil } from '../support/poll.ts';
import { startReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { spawnNode, type RunningApp } from '../support/spawn.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0)) await step();
});

describe('The preload under --require', () => {
  it('names the Express route on the server span of an ES-module app', { timeout: 60_000 }, async () => {
    const receiver: OtlpReceiver = await startReceiver();
    cleanup.push(() => receiver.close());
    const app: RunningApp = spawnNode(
      ['--require', './instrumentation', 'test/instrumentation/fixtures/esm-app.mjs'],
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_SERVICE_NAME: 'esm-require',
      },
    );
    cleanup.push(() => app.stop());
    const [, port] = await app.waitForLine(/^LISTENING (\d+)$/);
    expect((await fetch(`http://127.0.0.1:${port}/scenes/esm-1`)).status).toBe(200);
    const server = await pollUntil('the server span of GET /scenes/esm-1 at the receiver', () =>
      Promise.resolve(receiver.spans().find((span) => span.attributes['url.path'] === '/scenes/esm-1')),
    );
    expect(server.attributes['http.route']).toBe('/scenes/:id');
    expect(server.name).toBe('GET /scenes/:id');
  });
});
