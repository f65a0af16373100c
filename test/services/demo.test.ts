/**
 * `npm run demo` as a newcomer runs it, in its short non-interactive mode: it starts, serves, prints trace IDs that
 * Jaeger knows, and stops leaving none of its processes behind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../cli/stack/config.ts';
import { spawnNode } from '../support/spawn.ts';
import { stackEndpoints } from '../support/backends.ts';

/** Pids of processes running one of our services from this clone. */
function servicePids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return (
          cmdline.includes('services/') &&
          cmdline.includes('main.ts') &&
          readFileSync(`/proc/${pid}/environ`, 'utf8').includes(REPO_ROOT)
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('npm run demo', () => {
  it('starts, serves, prints trace IDs Jaeger knows, and stops leaving no service behind', async () => {
    const before = servicePids();
    const demo = spawnNode(['cli/bin.js', 'demo', '--duration', '6', '--rate', '10']);
    const exit = await demo.exited;
    const output = demo.stdout.join('\n');
    expect(exit.code, demo.stderr.join('')).toBe(0);
    expect(output).toMatch(/^\d+ requests in /m);
    const printed = [...output.matchAll(/npx observatory trace ([0-9a-f]{32})/g)].map((m) => m[1]!);
    expect(printed.length).toBeGreaterThanOrEqual(3);
    const { jaeger } = stackEndpoints();
    for (const id of printed) {
      const response = await fetch(`${jaeger}/api/traces/${id}`);
      expect(response.status, `trace ${id} in Jaeger`).toBe(200);
    }
    expect(servicePids().filter((pid) => !before.includes(pid))).toEqual([]);
  }, 120_000);
});
