/**
 * Warms the demo platform before its load starts. A fresh service answers its first requests slowly: modules load on
 * first use (fetch's HTTP client, the AWS SDK's request path, the instrumentations' patches), connections open, a
 * worker sandbox cold-starts for the first job, and everything runs as unoptimised bytecode. At 20 req/s the
 * requests that arrive meanwhile queue behind those, and the first seconds of a fresh demo measured p95 2.9 s where
 * the rest of the run measured 34 ms p50. So, before the load: every route once, one at a time (each first-use cost
 * paid alone, not by twenty requests at once), one analytics job waited for (the sandbox is warm), then a few seconds
 * of the real mix at the load's rate (the hot paths optimised). Its requests are real ones: they leave traces too.
 */
import { pollUntil } from '../common/poll.ts';
import { days, scenesOf, tiles } from '../imagery/scenes.ts';
import { DEFAULT_MIX, runLoad, type LoadReport } from './load-generator.ts';

export interface WarmUpOptions {
  /** The gateway's base URL. */
  gateway: string;
  /** The rate of the load that follows, which the last stage runs at (requests per second). */
  rate: number;
  /** Seconds of the real mix at `rate` after the first requests. @default 5 */
  burstSeconds?: number;
  /**
   * The most the whole warm-up may take. It is best effort: on a machine too busy to finish it in this time, it stops
   * (and throws) rather than hold the demo back; the load then shows how busy. @default 45000
   */
  timeoutMs?: number;
  /** Stops early when aborted (Ctrl-C). */
  signal?: AbortSignal;
}

export interface WarmUpReport {
  /** Wall time of the whole warm-up. */
  seconds: number;
  /** The first request of each route, in milliseconds, in the order sent. */
  first: { route: string; status: number; ms: number }[];
  /** The burst at the load's rate. */
  burst: LoadReport;
}

export async function warmUp(options: WarmUpOptions): Promise<WarmUpReport> {
  const started = performance.now();
  const budget = AbortSignal.timeout(options.timeoutMs ?? 45_000);
  const signal = options.signal ? AbortSignal.any([options.signal, budget]) : budget;
  const left = () => (options.timeoutMs ?? 45_000) - (performance.now() - started);
  const first: WarmUpReport['first'] = [];
  for (const step of firstRequests(options.gateway)) {
    const begin = performance.now();
    const response = await fetch(step.url, { ...step.init, signal });
    const body = await response.text();
    first.push({ route: step.route, status: response.status, ms: performance.now() - begin });
    if (step.route === 'POST /api/jobs' && response.status === 202) {
      const id = (JSON.parse(body) as { id: string }).id;
      await jobDone(options.gateway, id, left(), signal);
    }
  }
  const burst = await runLoad({
    url: options.gateway,
    rate: options.rate,
    durationSeconds: Math.max(0, Math.min(options.burstSeconds ?? 5, left() / 1000 - 1)),
    mix: DEFAULT_MIX,
    faultRate: 0.02,
    signal,
  });
  return { seconds: (performance.now() - started) / 1000, first, burst };
}

/** One request per route the load sends, a found and a missing download, and a job of one chunk. */
function firstRequests(gateway: string): { route: string; url: string; init: RequestInit }[] {
  const [day, next] = days();
  const tile = tiles()[0]!;
  const [w, s, e, n] = tile.bbox;
  const scene = scenesOf(day!, 0)[0]!;
  const json = (body: unknown): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': 'u-warm-up' },
    body: JSON.stringify(body),
  });
  const get: RequestInit = { headers: { 'x-user-id': 'u-warm-up' } };
  return [
    {
      route: 'GET /api/scenes',
      url: `${gateway}/api/scenes?bbox=${w},${s},${e},${n}&from=${day}&to=${next}&limit=10`,
      init: get,
    },
    { route: 'GET /api/scenes/:id/download', url: `${gateway}/api/scenes/${scene.id}/download`, init: get },
    {
      route: 'GET /api/scenes/:id/download (missing)',
      url: `${gateway}/api/scenes/${scene.id.replace(/\d{2}$/, '99')}/download`,
      init: get,
    },
    {
      route: 'POST /api/users',
      url: `${gateway}/api/users`,
      init: json({ name: 'Warm Up', email: 'warm-up@example.com', plan: 'free' }),
    },
    {
      route: 'POST /api/jobs',
      url: `${gateway}/api/jobs`,
      init: json({ bbox: [w, s, w + 1, s + 1], from: day, to: day }),
    },
  ];
}

async function jobDone(gateway: string, id: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  await pollUntil(
    `warm-up job ${id} to finish`,
    async () => {
      const view = (await (await fetch(`${gateway}/api/jobs/${id}`, { signal })).json()) as {
        status: string;
      };
      return view.status !== 'queued' && view.status !== 'running' ? view : undefined;
    },
    { timeoutMs, intervalMs: 200, signal },
  );
}
