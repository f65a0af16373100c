/**
 * Telemetry never holds the app hostage: SIGTERM delivers what is queued within the bound, a dead Collector costs
 * the app nothing but the (counted, reported) telemetry, and exit stays within the bound either way. Where the
 * bound is what is proven, the exporter's own timeout is set far beyond the wait for the exit, so that only the
 * bound can end it in time; how long an exit takes is a figure of `npm run bench -- shutdown`, not asserted here.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchTrace } from '../support/backends.ts';
import { pollUntil } from '../support/poll.ts';
import { spawnNode, type RunningApp } from '../support/spawn.ts';

const running: RunningApp[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const app of running.splice(0)) await app.stop();
  for (const close of closers.splice(0)) await close();
});

/** A "Collector" that accepts connections and never answers: the worst case for an exporter. */
async function blackhole(): Promise<string> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    sockets.forEach((socket) => socket.destroy());
    return new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

const SHUTDOWN_BOUND_MS = 2000;
// How long the test waits for the exit: the bound with ample room for a loaded 2-core machine.
const EXIT_WAIT_MS = 20_000;
// The exporter's own timeout where the bound is proven: far past EXIT_WAIT_MS, so an exit in time is the bound's.
const EXPORTER_TIMEOUT_MS = '600000';

/** Sends SIGTERM and waits for the exit, at most EXIT_WAIT_MS (after `extraMs` the app's own handler may take). */
async function terminate(app: RunningApp, extraMs = 0) {
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void app.exited.then((result) => (exit = result));
  app.child.kill('SIGTERM');
  return pollUntil(`the app (pid ${app.child.pid}) to exit after SIGTERM`, async () => exit, {
    timeoutMs: EXIT_WAIT_MS + extraMs,
    intervalMs: 50,
  });
}

describe('Shutdown and a missing Collector', () => {
  it('delivers every queued span on SIGTERM, then exits by the signal', async () => {
    const app = spawnNode(['--require', './instrumentation', 'test/instrumentation/fixtures/spans-app.cjs'], {
      OTEL_SERVICE_NAME: 'shutdown-test',
      SPANS: '300',
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      OBSERVATORY_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_BOUND_MS),
    });
    running.push(app);
    const [, traceId] = await app.waitForLine(/^TRACE ([0-9a-f]{32})$/);

    const exit = await terminate(app);
    expect(exit.signal).toBe('SIGTERM');
    const trace = await fetchTrace(traceId!, 300);
    expect(trace.spans).toHaveLength(300);
  });

  it.each([
    { handler: 'once', ending: 'exit', preloadFirst: true },
    { handler: 'on', ending: 'drain', preloadFirst: true },
    { handler: 'once', ending: 'drain', preloadFirst: false },
  ])(
    "lets the app's own process.$handler('SIGTERM') handler finish ($ending, preload first: $preloadFirst), then delivers its spans",
    async ({ handler, ending, preloadFirst }) => {
      const fixture = 'test/instrumentation/fixtures/once-sigterm-app.cjs';
      const args = preloadFirst
        ? ['--require', './instrumentation', fixture]
        : // Required before the preload; the main script is the same module, already loaded.
          ['--require', `./${fixture}`, '--require', './instrumentation', fixture];
      const app = spawnNode(args, {
        OTEL_SERVICE_NAME: `shutdown-${handler}-${ending}`,
        HANDLER: handler,
        ENDING: ending,
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        OBSERVATORY_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_BOUND_MS),
      });
      running.push(app);
      await app.waitForLine(/^READY$/);

      // The handler does 1 s of work before the exit it chose.
      const exit = await terminate(app, 1000);
      // The handler ran to its end (its CLOSED line), then the exit it chose (not the signal, not a kill).
      const [, traceId] = await app.waitForLine(/^CLOSED ([0-9a-f]{32})$/);
      expect(exit).toMatchObject({ code: 0, signal: null });
      // Its spans were flushed after it: the root and the ten steps.
      const trace = await fetchTrace(traceId!, 11);
      expect(trace.spans.map((s) => s.operationName).sort()).toEqual(
        ['app.close', ...Array.from({ length: 10 }, (_, i) => `app.close.step-${i}`)].sort(),
      );
    },
  );

  it("exits there and then when the app's own SIGTERM handler calls process.exit(): no code of the app runs after it, and its spans are delivered", async () => {
    const app = spawnNode(
      ['--require', './instrumentation', 'test/instrumentation/fixtures/once-sigterm-app.cjs'],
      {
        OTEL_SERVICE_NAME: 'shutdown-exit-exits',
        HANDLER: 'on',
        ENDING: 'exit',
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        OBSERVATORY_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_BOUND_MS),
      },
    );
    running.push(app);
    await app.waitForLine(/^READY$/);

    const exit = await terminate(app);
    const [, traceId] = await app.waitForLine(/^CLOSED ([0-9a-f]{32})$/);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(app.stdout).not.toContain('RAN ON AFTER EXIT');
    expect(app.stdout).not.toContain('TIMER AFTER EXIT');
    const trace = await fetchTrace(traceId!, 11);
    expect(trace.spans).toHaveLength(11);
  });

  it('exits within the bound on SIGTERM when the Collector never answers', async () => {
    const app = spawnNode(['--require', './instrumentation', 'test/instrumentation/fixtures/spans-app.cjs'], {
      OTEL_SERVICE_NAME: 'shutdown-blackhole',
      OTEL_EXPORTER_OTLP_ENDPOINT: await blackhole(),
      OTEL_EXPORTER_OTLP_TIMEOUT: EXPORTER_TIMEOUT_MS,
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      OBSERVATORY_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_BOUND_MS),
    });
    running.push(app);
    await app.waitForLine(/^TRACE /);

    // The export never ends by itself (the black hole, the exporter's timeout of 10 minutes): only the bound ends it.
    const exit = await terminate(app);
    expect(exit.signal).toBe('SIGTERM');
  });

  it('keeps serving every request while the Collector is down, and counts and reports the drops', async () => {
    const app = spawnNode(
      ['--require', './instrumentation', 'test/instrumentation/fixtures/server-app.cjs'],
      {
        OTEL_SERVICE_NAME: 'collector-down',
        // A closed port: every export fails at once.
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_BSP_MAX_QUEUE_SIZE: '64',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '32',
        OTEL_LOG_LEVEL: 'warn',
      },
    );
    running.push(app);
    const [, port] = await app.waitForLine(/^LISTENING (\d+)$/);

    const statuses: number[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 25 }, () => fetch(`http://127.0.0.1:${port}/scenes`)),
      );
      statuses.push(...responses.map((r) => r.status));
    }
    expect(statuses).toHaveLength(500);
    expect(statuses.every((status) => status === 200)).toBe(true);

    type Counts = { spans: { offered: number; delivered: number; failed: number; dropped: number } };
    const counts = await pollUntil(
      'a failed span export counted in /deliveries',
      async () => {
        const seen = (await (await fetch(`http://127.0.0.1:${port}/deliveries`)).json()) as Counts;
        return seen.spans.failed > 0 ? seen : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expect(counts.spans.offered).toBeGreaterThanOrEqual(500);
    expect(counts.spans.delivered).toBe(0);
    expect(counts.spans.failed).toBeGreaterThan(0);
    expect(counts.spans.dropped).toBe(counts.spans.offered);
    expect(app.stderr.join('')).toMatch(/observatory: dropped \d+ spans: export failed/);
  });
});
