/**
 * The keep-alive race between a service and its caller: the caller (undici's fetch, as services/lib/client.ts uses
 * it) reuses an idle connection shortly before the keep-alive timeout the server advertised; when the server's event
 * loop stalls meanwhile, its idle timer and the request on that connection become due in the same turn — and the
 * timer runs first, closing the connection under the request ("other side closed": a 503 at the caller). The server
 * must keep idle connections open well past the timeout it advertises.
 */
import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../services/lib/client.ts';
import { spawnNode, type RunningApp } from '../support/spawn.ts';

let server: RunningApp;
let base: string;

// Starting Node with Express takes seconds of CPU, many more on a busy shared machine.
beforeAll(async () => {
  server = spawnNode(['test/support/stalling-server.ts']);
  const [, port] = await server.waitForLine(/^LISTENING (\d+)$/, 90_000);
  base = `http://127.0.0.1:${port}`;
}, 120_000);

afterAll(() => server.stop());

/** Starts a request on a connection of its own and resolves once its headers arrived: the server is stalled then. */
function stallFor(ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = get(`${base}/stall?ms=${ms}`, { agent: false }, (response) => {
      response.resume();
      resolve();
    });
    request.on('error', reject);
  });
}

describe('A service on the common HTTP kit', () => {
  it('answers a request sent on a reused connection while its event loop was stalled past the keep-alive timeout', async () => {
    // Node's server advertises 5 s; a stall past 5 s + Node's own 1 s buffer closed the reused connection.
    const advertised = 5000;
    await call('stalling', `${base}/ok`, { timeoutMs: 30_000 });
    // The connection the call used is idle in fetch's pool now; a stall on another one blocks the server.
    await stallFor(advertised + 2000);
    const response = await call('stalling', `${base}/ok`, { timeoutMs: 30_000 });
    expect(await response.json()).toEqual({ ok: true });
  }, 60_000);
});
