/**
 * A service stops calling downstream for a request whose caller has gone: when the client closes the connection
 * before the answer (its own timeout), the call in flight is aborted and the calls still to make for it fail at once
 * with a 499, not a server error — on a saturated machine that work for nobody kept the services behind.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../common/http/errors.ts';
import { call, callerGone } from '../../services/lib/client.ts';
import { pollUntil } from '../support/poll.ts';

const servers: Server[] = [];
afterAll(() => servers.forEach((server) => server.close()));

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('A call made for an incoming request', () => {
  it('is aborted when the caller closes its connection, and the calls after it are not made', async () => {
    // The downstream never answers on its own: it records the requests it got and whether they were closed.
    const downstreamRequests: IncomingMessage[] = [];
    const downstream = await serve((req) => downstreamRequests.push(req));
    const outcomes: unknown[] = [];
    const service = await serve((_req, res) => {
      const signal = callerGone(res);
      void (async () => {
        for (let i = 0; i < 3; i++) {
          outcomes.push(
            await call('downstream', `${downstream}/step/${i}`, { timeoutMs: 60_000, signal }).catch(
              (e: unknown) => e,
            ),
          );
        }
      })();
    });
    const client = new AbortController();
    const answered = fetch(`${service}/search`, { signal: client.signal }).catch((e: unknown) => e);
    await pollUntil('the first downstream call', async () => downstreamRequests.length === 1 || undefined);
    client.abort();
    await answered;
    await pollUntil('the calls for the gone caller to end', async () => outcomes.length === 3 || undefined);
    for (const outcome of outcomes) {
      expect(outcome).toBeInstanceOf(HttpError);
      expect(outcome).toMatchObject({ status: 499, code: 'caller_gone' });
    }
    expect(downstreamRequests).toHaveLength(1);
    await pollUntil(
      'the downstream request to be closed',
      async () => downstreamRequests[0]!.destroyed || undefined,
    );
  });

  it('goes on while the caller waits, and the signal stays quiet once the answer was sent', async () => {
    const downstream = await serve((_req, res) => res.end('{"ok":true}'));
    let signal: AbortSignal | undefined;
    const service = await serve((_req, res) => {
      signal = callerGone(res);
      void call('downstream', `${downstream}/`, { timeoutMs: 60_000, signal }).then(async (response) =>
        res.end(await response.text()),
      );
    });
    expect(await (await fetch(`${service}/`)).json()).toEqual({ ok: true });
    expect(signal?.aborted).toBe(false);
  });
});
