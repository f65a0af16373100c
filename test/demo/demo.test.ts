/**
 * `npm run demo` as a newcomer runs it, in its short non-interactive mode: it starts, serves, prints trace IDs that
 * Jaeger knows, and stops leaving none of its processes behind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { spawnNode } from '../support/spawn.ts';
import { pollUntil } from '../support/poll.ts';
import { listKeys, putObject, readObject, stackEndpoints } from '../support/backends.ts';
import { recentRawPrefixes } from '../support/lake.ts';
import { settledSignals } from '../support/trace-signals.ts';

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
  it('starts, serves, prints a first trace link early and trace IDs Jaeger knows, and stops leaving no service behind', async () => {
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
    // The first look: before the load's report, a link to the console's page of a trace whose spans, log lines and
    // business events had all arrived when it was printed (the page reads them once, when it opens).
    const first =
      /^First trace \(its spans, logs and business events\): http:\/\/127\.0\.0\.1:\d+\/traces\/([0-9a-f]{32})$/m.exec(
        output,
      );
    expect(first, output).not.toBeNull();
    expect(output.indexOf(first![0])).toBeLessThan(output.search(/^\d+ requests in /m));
    const firstSignals = await settledSignals(
      first![1]!,
      ({ logs, events }) => logs.length > 0 && events.length > 0,
      5_000,
    );
    expect(firstSignals.events.map((e) => e.eventName)).toContain('search_made');
    const { jaeger } = stackEndpoints();
    for (const id of [first![1]!, ...printed]) {
      const response = await fetch(`${jaeger}/api/traces/${id}`);
      expect(response.status, `trace ${id} in Jaeger`).toBe(200);
    }
    expect(pidsWithMarker(marker)).toEqual([]);
  }, 120_000);

  it('stops on SIGINT while a compaction job runs, exits 0 and leaves none of its processes behind', async () => {
    const marker = `OBSERVATORY_TEST_RUN=${randomUUID()}`;
    const etl = 'http://127.0.0.1:18194';
    // Every attempt of the compaction's first chunk hangs: the job runs until its 120 s timeout unless stopped.
    const demo = spawnNode(['cli/bin.js', 'demo', '--duration', '3', '--rate', '5'], {
      OBSERVATORY_TEST_RUN: marker.split('=')[1]!,
      OBSERVATORY_DEMO_COMPACTION_FAULT: 'hang',
      OBSERVATORY_ETL_ALLOW_FAULTS: 'true',
      OBSERVATORY_GATEWAY_PORT: '18190',
      OBSERVATORY_CATALOG_PORT: '18191',
      OBSERVATORY_DOWNLOADS_PORT: '18192',
      OBSERVATORY_USERS_PORT: '18193',
      OBSERVATORY_ETL_PORT: '18194',
    });
    try {
      await pollUntil(
        'the demo to start its compaction',
        async () => {
          if (demo.stderr.join('').includes('demo: compacting the business events')) return true;
          throw new Error(`the demo said: ${demo.stderr.join('').slice(-600)}`);
        },
        // Five services to start under the preload, and the sample traces checked in Jaeger first.
        { timeoutMs: 180_000, intervalMs: 250 },
      );
      // The demo plans its job 3 s from now. A copy of a raw event object of this hour (compaction keeps one row per
      // event ID) gives that job a first chunk — the one that hangs — even if another test's compaction on the shared
      // stack takes the demo's own objects first.
      const [original] = (await Promise.all(recentRawPrefixes().map((prefix) => listKeys(prefix)))).flat();
      expect(original, 'a raw event object of the last two hours').toBeDefined();
      const folder = original!.slice(0, original!.lastIndexOf('/') + 1);
      await putObject(`${folder}demo-stop-copy-${randomUUID()}.json`, await readObject(original!));
      const id = await pollUntil(
        'the demo to submit its compaction job',
        async () => {
          const id = /demo: compaction job (\S+) submitted/.exec(demo.stderr.join(''))?.[1];
          if (id) return id;
          throw new Error(`the demo said: ${demo.stderr.join('').slice(-600)}`);
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      // Its first chunk hangs at every attempt (the fault), so the job is running until the demo is stopped.
      await pollUntil(`compaction job ${id} to run`, async () => {
        const job = (await (await fetch(`${etl}/jobs/${id}`)).json()) as {
          status: string;
          chunks: { in_flight: number };
        };
        return job.status === 'running' && job.chunks.in_flight > 0 ? true : undefined;
      });
      demo.child.kill('SIGINT');
      // Far below the compaction's 120 s timeout; the time it takes is a bench figure (bench/soak.ts).
      const exit = await Promise.race([
        demo.exited,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the demo did not exit within 30 s of SIGINT')), 30_000),
        ),
      ]);
      expect(exit, demo.stderr.join('')).toEqual({ code: 0, signal: null });
      expect(demo.stderr.join('')).toContain('demo: stopping the services');
      await pollUntil('the demo and its services to be gone', async () =>
        pidsWithMarker(marker).length === 0 ? true : undefined,
      );
    } finally {
      await demo.stop();
    }
  }, 300_000);

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
