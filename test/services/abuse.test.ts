/**
 * What an outside caller cannot do to the demo services: inject faults through the demo's header unless the demo
 * enabled it, hold a request open longer than the downstream timeout with it, or make the W3C test endpoint fetch
 * anything but the machine's own loopback addresses.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnNode, type RunningApp } from '../support/spawn.ts';

const running: RunningApp[] = [];
const servers: Server[] = [];
afterAll(async () => {
  for (const app of running) await app.stop();
  for (const server of servers) server.close();
});

/** Starts one demo service under the preload on a free port and returns its base URL. */
async function startService(name: 'catalog' | 'gateway', env: Record<string, string>): Promise<string> {
  const app = spawnNode(['--require', './instrumentation', `services/${name}/main.ts`], {
    OTEL_SERVICE_NAME: name,
    [`OBSERVATORY_${name.toUpperCase()}_PORT`]: '0',
    ...env,
  });
  running.push(app);
  // The catalog seeds the store before it listens: slow on a busy machine.
  const [, port] = await app.waitForLine(/^LISTENING (\d+)$/, 90_000);
  return `http://127.0.0.1:${port}`;
}

const SEARCH = '/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-01&detail=ids';

describe('The fault header', () => {
  it('is ignored by a service the demo did not enable it on', async () => {
    const catalog = await startService('catalog', { OBSERVATORY_DEMO_FAULT_HEADER: 'false' });
    const response = await fetch(`${catalog}${SEARCH}`, { headers: { 'x-demo-fault': 'catalog:error' } });
    expect(response.status).toBe(200);
  }, 120_000);

  it('cannot hold a request open much longer than the downstream timeout', async () => {
    const catalog = await startService('catalog', {
      OBSERVATORY_DEMO_FAULT_HEADER: 'true',
      OBSERVATORY_DOWNSTREAM_TIMEOUT_MS: '300',
    });
    // Ten minutes asked for; the service answers once the capped latency has passed, well inside this fetch's bound.
    const response = await fetch(`${catalog}${SEARCH}`, {
      headers: { 'x-demo-fault': 'catalog:latency=600000' },
      signal: AbortSignal.timeout(20_000),
    });
    expect(response.status).toBe(200);
    // Enabled, the header still works: the demo's own use of it is intact.
    const failed = await fetch(`${catalog}${SEARCH}`, { headers: { 'x-demo-fault': 'catalog:error' } });
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe('injected_fault');
  }, 120_000);
});

describe('The W3C test endpoint', () => {
  it('calls back loopback targets only, and answers any other with a 400 naming the url', async () => {
    const gateway = await startService('gateway', { OBSERVATORY_W3C_TEST_ENDPOINT: 'true' });
    const calls: IncomingHttpHeaders[] = [];
    const harness = createServer((req, res) => {
      calls.push(req.headers);
      res.end();
    });
    servers.push(harness);
    await new Promise<void>((resolve) => harness.listen(0, '127.0.0.1', () => resolve()));
    const { port } = harness.address() as { port: number };
    const test = (steps: unknown) =>
      fetch(`${gateway}/test`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          traceparent: '00-12345678901234567890123456789012-1234567890123456-01',
        },
        body: JSON.stringify(steps),
      });

    for (const url of [`http://127.0.0.1:${port}/callback/0`, `http://localhost:${port}/callback/1`]) {
      const ok = await test([{ url, arguments: [] }]);
      expect(ok.status, url).toBe(200);
    }
    expect(calls).toHaveLength(2);
    expect(
      calls.every((headers) =>
        String(headers.traceparent).startsWith('00-12345678901234567890123456789012-'),
      ),
    ).toBe(true);

    for (const url of [
      'http://example.com/',
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      `http://127.0.0.1.example.com:${port}/`,
      'http://0.0.0.0/',
      `file:///etc/passwd`,
      'not a url',
    ]) {
      // A refused step in the list stops the whole list before anything is fetched.
      const refused = await test([
        { url: `http://127.0.0.1:${port}/callback/never`, arguments: [] },
        { url, arguments: [] },
      ]);
      expect(refused.status, url).toBe(400);
      const body = (await refused.json()) as { error: { code: string; field: string; message: string } };
      expect(body.error).toMatchObject({ code: 'invalid_request', field: 'url' });
    }
    expect(calls).toHaveLength(2);
  });
});
