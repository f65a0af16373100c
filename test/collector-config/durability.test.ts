/**
 * The Collector's sending queues live on disk and nothing batches in memory before them: an event the Collector
 * answered 200 for survives a SIGKILL. An isolated stack takes a steady stream of events, its Collector is killed
 * and restarted in the middle, and every accepted event ID is then found in S3, counted by unique ID.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../support/poll.ts';
import { attribute, IsolatedTestStack, logRecords } from '../support/isolated-stack.ts';

const isolated = new IsolatedTestStack(24500);
const RECORDS_PER_REQUEST = 25;

/**
 * What each wait may take. Alone the test needs seconds (7–30 s of test time in runs at a load average of 30 on two
 * cores); inside a full `npm test` its Collector, S3 store and this worker share the machine with every other stack
 * test, so each wait is sized for a starved machine, and the test's own timeout covers all of them (it was 150 s
 * against waits that could add up to 270 s: a slow run then failed on the clock, not on a lost event).
 */
const WAIT_MS = {
  acceptedBeforeKill: 60_000,
  refusedWhileDown: 30_000,
  // The restart itself is bounded by the stack's own start timeout (90 s).
  restart: 90_000,
  acceptedAfterRestart: 60_000,
  // Retries back off up to 30 s between attempts while the store is slow: several rounds of them.
  inS3: 150_000,
};
const TEST_TIMEOUT_MS = Object.values(WAIT_MS).reduce((a, b) => a + b, 0) + 30_000;

/** One OTLP/JSON logs request of business events, each with a unique event.id. */
function eventsRequest(ids: string[]): string {
  const now = String(Date.now() * 1_000_000);
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'durability-test' } }] },
        scopeLogs: [
          {
            scope: { name: 'durability-test' },
            logRecords: ids.map((id) => ({
              timeUnixNano: now,
              eventName: 'scene.downloaded',
              body: { kvlistValue: { values: [{ key: 'scene.id', value: { stringValue: 'S2A' } }] } },
              attributes: [{ key: 'event.id', value: { stringValue: id } }],
            })),
          },
        ],
      },
    ],
  });
}

/** Sends requests back to back until stopped; records the IDs of requests answered 2xx. */
function load(url: string) {
  const accepted = new Set<string>();
  let refused = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const ids = Array.from({ length: RECORDS_PER_REQUEST }, () => randomUUID());
      try {
        const response = await fetch(`${url}/v1/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: eventsRequest(ids),
          signal: AbortSignal.timeout(5_000),
        });
        if (response.ok) for (const id of ids) accepted.add(id);
        else refused++;
      } catch {
        refused++; // the Collector is down: the client would retry; these IDs were never accepted
        // Part of the load, not a wait for a condition: a client backs off before retrying a refused connection.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  })();
  return {
    accepted,
    refused: () => refused,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

function collectorPid(): number {
  const file = join(isolated.stack.config.stateDir, 'run', 'collector.pid');
  return (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid;
}

describe('The local Collector under SIGKILL', () => {
  beforeAll(async () => {
    await isolated.up();
  });
  afterAll(async () => {
    await isolated.down();
  });

  it(
    'loses no accepted event when killed and restarted under load',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const traffic = load(isolated.otlpHttp);
      await pollUntil(
        'some accepted events before the kill',
        async () => (traffic.accepted.size >= 40 * RECORDS_PER_REQUEST ? true : undefined),
        { timeoutMs: WAIT_MS.acceptedBeforeKill },
      );
      const acceptedBeforeKill = traffic.accepted.size;
      process.kill(collectorPid(), 'SIGKILL');
      await pollUntil(
        'a refused request while the Collector is down',
        async () => (traffic.refused() > 0 ? true : undefined),
        { timeoutMs: WAIT_MS.refusedWhileDown },
      );
      await isolated.stack.up(['collector']);
      await pollUntil(
        'more accepted events after the restart',
        async () =>
          traffic.accepted.size >= acceptedBeforeKill + 40 * RECORDS_PER_REQUEST ? true : undefined,
        { timeoutMs: WAIT_MS.acceptedAfterRestart },
      );
      await traffic.stop();

      const expected = traffic.accepted;
      const found = new Set<string>();
      const read = new Set<string>();
      await pollUntil(
        `all ${expected.size} accepted event IDs under raw/events/`,
        async () => {
          for (const key of await isolated.listKeys('raw/events/')) {
            if (read.has(key)) continue;
            read.add(key);
            for (const record of logRecords(await isolated.readObject(key))) {
              const id = attribute(record, 'event.id')?.stringValue;
              if (id) found.add(id);
            }
          }
          const missing = [...expected].filter((id) => !found.has(id)).length;
          if (missing > 0) throw new Error(`${missing} of ${expected.size} accepted IDs not in S3 yet`);
          return true;
        },
        { timeoutMs: WAIT_MS.inS3, intervalMs: 1_000 },
      );
      expect([...expected].filter((id) => !found.has(id))).toEqual([]);
      expect(expected.size).toBeGreaterThan(acceptedBeforeKill);
    },
  );
});
