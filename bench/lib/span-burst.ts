/**
 * A burst of demo-like spans through a Collector: the span load client (bench/fixtures/span-load.ts) in a child
 * process, so its CPU is not the measured processes' and its pace is its own. Server spans with client children and
 * the resource the preload's detectors give, as services send them; the whole burst is sent, at `rate` or as fast as
 * the machine exports it (a loaded machine is slower: the time it took is returned).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Burst {
  /** Spans the Collector confirmed or refused (all of them were exported). */
  sent: number;
  seconds: number;
}

export function sendBurst(
  url: string,
  options: { spans: number; rate: number; spansPerTrace: number },
): Promise<Burst> {
  const started = performance.now();
  const child = fork(fileURLToPath(new URL('../fixtures/span-load.ts', import.meta.url)), [], {
    env: {
      ...process.env,
      BENCH_URL: url,
      BENCH_RATE: String(options.rate),
      // However long a loaded machine takes to make the whole burst.
      BENCH_SECONDS: String((options.spans / options.rate) * 10),
      BENCH_TOTAL: String(options.spans),
      BENCH_SPANS_PER_TRACE: String(options.spansPerTrace),
      BENCH_DETECTED_RESOURCE: '1',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { sent: number }) =>
      resolve({ sent: message.sent, seconds: (performance.now() - started) / 1000 }),
    );
    child.once('exit', (code) => code !== 0 && reject(new Error(`span load client exited with ${code}`)));
  });
}
