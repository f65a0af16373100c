/**
 * `observatory load` judges its own run: exit 0 when the target served it, 1 when nothing answered or when more than
 * `--max-5xx` percent (default 5) of the requests not asked to fail got a server error. The target here is a small
 * HTTP server of the test's own that answers as each case needs; the real gateway is driven in the demo's test.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { closedPortUrl } from '../support/closed-port.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A stand-in gateway: `status(request, n)` decides each answer (n counts from 1). */
async function gateway(status: (req: IncomingMessage, n: number) => number): Promise<string> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(status(req, ++n), { 'content-type': 'application/json' }).end('{}');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function load(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['cli/bin.js', 'load', '--rate', '20', '--duration', '1', ...args],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out, err }));
  });
}

describe('observatory load', () => {
  it('exits 0 when every request is served, and prints the report', async () => {
    const run = await load(['--url', await gateway(() => 200), '--fault-rate', '0']);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/^20 requests in [\d.]+ s .*status counts: 20\d=\d+/m);
    expect(run.out).toContain('0 asked to fail (fault header); 0 other server errors');
  });

  it('exits 1 when nothing answered', async () => {
    const run = await load(['--url', await closedPortUrl()]);
    expect(run.code).toBe(1);
    expect(run.out).toContain('no answer=20');
    expect(run.err).toContain('observatory load: none of the 20 requests was answered');
  });

  it('exits 1 when the share of server errors is above 5 %, and 0 when --max-5xx allows it', async () => {
    const url = await gateway((_, n) => (n % 4 === 0 ? 503 : 200));
    const strict = await load(['--url', url, '--fault-rate', '0']);
    expect(strict.code).toBe(1);
    expect(strict.err).toMatch(
      /5 of the 20 requests not asked to fail \(25\.0 %\) got a server error.*above the 5 %/,
    );
    const lenient = await load([
      '--url',
      await gateway((_, n) => (n % 4 === 0 ? 503 : 200)),
      '--fault-rate',
      '0',
      '--max-5xx',
      '30',
    ]);
    expect(lenient.code, lenient.err).toBe(0);
  });

  it('does not count the failures it asked for with the fault header', async () => {
    const url = await gateway((req) => (req.headers['x-demo-fault'] ? 500 : 200));
    const run = await load(['--url', url, '--fault-rate', '0.5']);
    expect(run.code, run.err).toBe(0);
    const asked = Number(/(\d+) asked to fail/.exec(run.out)?.[1]);
    expect(asked).toBeGreaterThan(0);
    expect(run.out).toContain(`status counts: `);
    expect(run.out).toMatch(new RegExp(`500=${asked}\\b`));
  });
});
