/**
 * `npm run demo` as a newcomer runs it, in its short non-interactive mode: it starts, serves, prints trace IDs that
 * Jaeger knows, and stops leaving none of its processes behind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { spawnNode } from '../support/spawn.ts';
import { pollUntil } from '../support/poll.ts';
import { stackEndpoints } from '../support/backends.ts';

/** Pids of live processes whose environment carries `marker`: the demo's services, listener and sandboxes inherit it. */
function pidsWithMarker(marker: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('npm run demo', () => {
  it('starts, serves, prints trace IDs Jaeger knows, and stops leaving no service behind', async () => {
    const marker = `OBSERVATORY_TEST_RUN=${randomUUID()}`;
    const demo = spawnNode(['cli/bin.js', 'demo', '--duration', '6', '--rate', '10'], {
      OBSERVATORY_TEST_RUN: marker.split('=')[1]!,
    });
    // While it runs, the marker finds the demo and its five services (gateway, catalog, downloads, users, listener).
    await pollUntil('the demo and its services to be running', async () =>
      pidsWithMarker(marker).length >= 6 ? true : undefined,
    );
    const exit = await demo.exited;
    const output = demo.stdout.join('\n');
    expect(exit.code, demo.stderr.join('')).toBe(0);
    expect(output).toMatch(/^\d+ requests in /m);
    const printed = [...output.matchAll(/npx observatory trace ([0-9a-f]{32})/g)].map((m) => m[1]!);
    expect(printed.length).toBeGreaterThanOrEqual(3);
    // The console's links come first, the first one the trace page of the first sample request.
    expect(output).toMatch(
      new RegExp(`Observatory console\\n  http://127\\.0\\.0\\.1:\\d+/traces/${printed[0]}\\n`),
    );
    const { jaeger } = stackEndpoints();
    for (const id of printed) {
      const response = await fetch(`${jaeger}/api/traces/${id}`);
      expect(response.status, `trace ${id} in Jaeger`).toBe(200);
    }
    expect(pidsWithMarker(marker)).toEqual([]);
  }, 120_000);

  it('exits 1, saying why, when its run failed', async () => {
    // Every catalog request fails: most searches get a 502, far above the 5 % the demo allows. Ports of its own, so
    // that it cannot meet a demo left over from another test.
    const demo = spawnNode(['cli/bin.js', 'demo', '--duration', '4', '--rate', '10'], {
      OBSERVATORY_CATALOG_ERROR_RATE: '1',
      OBSERVATORY_GATEWAY_PORT: '18180',
      OBSERVATORY_CATALOG_PORT: '18181',
      OBSERVATORY_DOWNLOADS_PORT: '18182',
      OBSERVATORY_USERS_PORT: '18183',
      OBSERVATORY_ETL_PORT: '18184',
    });
    try {
      const exit = await demo.exited;
      const stderr = demo.stderr.join('');
      expect(exit.code, stderr).toBe(1);
      expect(stderr).toMatch(
        /demo: the run failed: \d+ of the \d+ requests not asked to fail .* got a server error/,
      );
    } finally {
      await demo.stop();
    }
  }, 240_000);
});
