/**
 * A service stops calling downstream for a request whose caller has gone: when the client closes the connection
 * before the answer (its own timeout), the call in flight is aborted and the calls still to make for it fail at once
 * with a 499, not a server error — on a saturated machine that work for nobody kept the services behind.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { HttpError } from '../../common/http/errors.ts';
import { S3Store } from '../../common/s3-store.ts';
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

describe("A read from the store made for a caller that has gone (the catalog's search)", () => {
  it('is aborted: the store sees its request closed and the read rejects at once', async () => {
    const storeRequests: IncomingMessage[] = [];
    const hanging = await serve((req) => storeRequests.push(req));
    const store = new S3Store(
      new S3Client({
        endpoint: hanging,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      }),
      'observatory',
    );
    const caller = new AbortController();
    const read = store.getJson('catalog/2026-06-01.json', { signal: caller.signal }).catch((e: unknown) => e);
    await pollUntil('the read to reach the store', async () => storeRequests.length === 1 || undefined);
    caller.abort(new Error('the caller closed the connection'));
    expect(await read).toBeInstanceOf(Error);
    await pollUntil('the store request to be closed', async () => storeRequests[0]!.destroyed || undefined);
  });
});
