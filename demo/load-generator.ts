/**
 * `observatory load`: drives the gateway with a realistic mix (many searches, fewer downloads, few sign-ups and
 * jobs) at a fixed arrival rate, shows progress, and ends with counts, latency percentiles and sample trace IDs —
 * of failed requests too — read from each response's `traceresponse` header. Memory stays bounded however long it
 * runs: counters, one percentile sketch per kind, and the last few trace IDs, never every sample.
 */
import { sleep } from '../common/poll.ts';
import { formatTable } from '../common/table.ts';
import { days, SATELLITES, scenesOf, tiles, TILE_DEGREES } from '../imagery/scenes.ts';
import { FAULT_HEADER, SERVICE_NAMES } from '../services/config.ts';
import { LatencySketch } from './latency-sketch.ts';

export type RequestKind = 'search' | 'download' | 'signup' | 'job';

export interface LoadOptions {
  url: string;
  /** Requests per second (open loop: arrivals do not wait for responses). @default 20 */
  rate: number;
  /** Seconds to run. @default 30 */
  durationSeconds: number;
  /** Relative weights of the request kinds. @default search 70, download 22, signup 5, job 3 */
  mix: Record<RequestKind, number>;
  /** Share of requests that ask a random service to fail (the fault header). @default 0.02 */
  faultRate: number;
  /** Progress lines go here (none when undefined). */
  progress?: (line: string) => void;
  /** Stops early when aborted (Ctrl-C). */
  signal?: AbortSignal;
  /** Called with each server error the run did not ask for (e.g. to look its trace up later). */
  onFailure?: (failure: Failure) => void;
  /**
   * The first seconds of the run, reported apart (`LoadReport.early`): a fresh platform's first requests queue behind
   * module loads and cold code, which the whole run's percentiles dilute. @default 10
   */
  earlySeconds?: number;
}

/**
 * A server error (or no answer) the run did not ask for: the route, and what the gateway said — its error body's
 * code and message — or, when nothing answered, the network error's code and message.
 */
export interface Failure {
  kind: RequestKind;
  /** The gateway route asked, e.g. `GET /api/scenes`. */
  route: string;
  /** The HTTP status; 0 when nothing answered. */
  status: number;
  /** The error body's `error.code`; for no answer the network error's code (`ECONNRESET`, `TimeoutError`…). */
  code: string;
  message: string;
  traceId: string | undefined;
}

/** Unexpected server errors with the same route, status, code and message (IDs in it masked). */
export interface FailureGroup {
  route: string;
  status: number;
  code: string;
  message: string;
  count: number;
  /** The first few trace IDs, to look the failure up. */
  traceIds: string[];
}

export interface Sample {
  kind: RequestKind;
  status: number;
  ms: number;
  traceId: string | undefined;
  /** The request carried the fault header: asked to fail. */
  faulted: boolean;
  /** What went wrong, for a server error or no answer: the error code and message. */
  error?: { code: string; message: string };
}

export interface LoadReport {
  sent: number;
  seconds: number;
  byKind: Record<string, { count: number; errors: number; p50: number; p95: number; p99: number }>;
  byStatus: Record<string, number>;
  /** Requests that carried the fault header (asked a service to fail). */
  injected: number;
  /** Server errors (5xx, or no answer) among the requests that were not asked to fail. */
  serverErrors: number;
  /** The server errors not asked for, grouped by cause, most frequent first (at most MAX_GROUPS groups). */
  failureGroups: FailureGroup[];
  sampleTraces: { ok: string[]; failed: { traceId: string; kind: RequestKind; status: number }[] };
  /** The requests sent in the run's first `seconds`, per kind; absent when the run was not longer than that. */
  early?: { seconds: number; sent: number; byKind: LoadReport['byKind'] };
}

export const DEFAULT_MIX: Record<RequestKind, number> = { search: 70, download: 22, signup: 5, job: 3 };

export function parseMix(text: string): Record<RequestKind, number> {
  const mix: Record<RequestKind, number> = { search: 0, download: 0, signup: 0, job: 0 };
  for (const part of text.split(',')) {
    const [kind, weight] = part.split('=');
    if (!kind || !(kind in mix) || weight === undefined || !(Number(weight) >= 0)) {
      throw new Error(
        `--mix: ${JSON.stringify(part)} is not kind=weight with kind one of ${Object.keys(mix).join(', ')}`,
      );
    }
    mix[kind as RequestKind] = Number(weight);
  }
  if (Object.values(mix).every((w) => w === 0)) throw new Error('--mix: at least one weight must be above 0');
  return mix;
}

/** The gateway route each kind asks. */
export const ROUTES: Record<RequestKind, string> = {
  search: 'GET /api/scenes',
  download: 'GET /api/scenes/:id/download',
  signup: 'POST /api/users',
  job: 'POST /api/jobs',
};

const pickOne = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

function pickKind(mix: Record<RequestKind, number>): RequestKind {
  const total = Object.values(mix).reduce((a, b) => a + b, 0);
  let x = Math.random() * total;
  for (const [kind, weight] of Object.entries(mix) as [RequestKind, number][]) {
    if ((x -= weight) < 0) return kind;
  }
  return 'search';
}

function request(kind: RequestKind, base: string): { url: string; init: RequestInit } {
  const json = (body: unknown): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const june = days();
  const tile = pickOne(tiles());
  const from = Math.floor(Math.random() * (june.length - 7));
  switch (kind) {
    case 'search': {
      const [w, s] = tile.bbox;
      const span = TILE_DEGREES * (1 + Math.floor(Math.random() * 2));
      const query = `bbox=${w},${s},${w + span},${s + span}&from=${june[from]}&to=${june[from + 1 + Math.floor(Math.random() * 6)]}&max_cloud=${pickOne([30, 60, 100])}&limit=10`;
      return { url: `${base}/api/scenes?${query}`, init: {} };
    }
    case 'download': {
      // A scene that exists, mostly; one in twenty asks for a tile the satellite did not image that day (a 404).
      const existing = scenesOf(june[from]!, from);
      if (Math.random() >= 0.05 && existing.length > 0) {
        return { url: `${base}/api/scenes/${pickOne(existing).id}/download`, init: {} };
      }
      const day = june[from]!.replaceAll('-', '');
      return {
        url: `${base}/api/scenes/${pickOne(SATELLITES).code}_${day}_T${String(tile.index).padStart(2, '0')}/download`,
        init: {},
      };
    }
    case 'signup':
      return {
        url: `${base}/api/users`,
        init: json({
          name: `User ${Math.floor(Math.random() * 1e6)}`,
          email: `user${Math.floor(Math.random() * 1e6)}@example.com`,
          plan: pickOne(['free', 'pro']),
        }),
      };
    case 'job':
      return {
        url: `${base}/api/jobs`,
        init: json({ bbox: tile.bbox, from: june[from], to: june[from + 2] }),
      };
  }
}

/** Only the last few trace IDs are reported. */
const SAMPLE_TRACES = 5;
/** Distinct causes of unexpected server errors kept; later new ones are counted under one "other causes" group. */
const MAX_GROUPS = 50;
/** Trace IDs kept per cause. */
const GROUP_TRACES = 3;

/** The message with what varies per request (UUIDs, trace IDs, scene IDs, numbers in IDs) masked, for grouping. */
export function maskIds(message: string): string {
  return message
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b[0-9a-f]{32}\b/gi, '<trace-id>')
    .replace(/\b[A-Z0-9]{3}_\d{8}_T\d{2}\b/g, '<scene>');
}

/** What the run has seen so far, in bounded memory. */
export class LoadTally {
  private readonly kinds = new Map<RequestKind, { sketch: LatencySketch; errors: number }>();
  private readonly statuses: Record<string, number> = {};
  private readonly ok: string[] = [];
  private readonly failed: LoadReport['sampleTraces']['failed'] = [];
  private readonly groups = new Map<string, FailureGroup>();
  done = 0;
  errors = 0;
  /** Requests that asked to fail (the fault header). */
  injected = 0;
  /** Server errors and unanswered requests among those that did not ask to fail. */
  serverErrors = 0;

  add(sample: Sample): void {
    let kind = this.kinds.get(sample.kind);
    if (!kind) this.kinds.set(sample.kind, (kind = { sketch: new LatencySketch(), errors: 0 }));
    kind.sketch.add(sample.ms);
    const error = sample.status === 0 || sample.status >= 500;
    if (error) kind.errors++;
    this.done++;
    if (error) this.errors++;
    if (sample.faulted) this.injected++;
    else if (error) {
      this.serverErrors++;
      this.group(this.failureOf(sample));
    }
    this.statuses[String(sample.status)] = (this.statuses[String(sample.status)] ?? 0) + 1;
    if (sample.traceId && sample.status > 0 && sample.status < 400) keepLast(this.ok, sample.traceId);
    if (sample.traceId && sample.status >= 500)
      keepLast(this.failed, { traceId: sample.traceId, kind: sample.kind, status: sample.status });
  }

  /** The failure a sample is (for a server error not asked for). */
  failureOf(sample: Sample): Failure {
    return {
      kind: sample.kind,
      route: ROUTES[sample.kind],
      status: sample.status,
      code: sample.error?.code ?? 'unknown',
      message: sample.error?.message ?? '',
      traceId: sample.traceId,
    };
  }

  private group(failure: Failure): void {
    const message = maskIds(failure.message);
    let key = JSON.stringify([failure.route, failure.status, failure.code, message]);
    let group = this.groups.get(key);
    if (!group && this.groups.size >= MAX_GROUPS) {
      key = 'other';
      group = this.groups.get(key);
      if (!group) {
        group = { route: '*', status: 0, code: 'other', message: 'other causes', count: 0, traceIds: [] };
        this.groups.set(key, group);
      }
    }
    if (!group) {
      group = {
        route: failure.route,
        status: failure.status,
        code: failure.code,
        message,
        count: 0,
        traceIds: [],
      };
      this.groups.set(key, group);
    }
    group.count++;
    if (failure.traceId && group.traceIds.length < GROUP_TRACES) group.traceIds.push(failure.traceId);
  }

  report(seconds: number): LoadReport {
    const byKind: LoadReport['byKind'] = {};
    for (const [name, { sketch, errors }] of this.kinds) {
      byKind[name] = {
        count: sketch.count,
        errors,
        p50: sketch.percentile(50),
        p95: sketch.percentile(95),
        p99: sketch.percentile(99),
      };
    }
    return {
      sent: this.done,
      seconds,
      byKind,
      byStatus: { ...this.statuses },
      injected: this.injected,
      serverErrors: this.serverErrors,
      failureGroups: [...this.groups.values()]
        .map((g) => ({ ...g, traceIds: [...g.traceIds] }))
        .sort((a, b) => b.count - a.count),
      sampleTraces: { ok: [...this.ok], failed: [...this.failed] },
    };
  }
}

function keepLast<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > SAMPLE_TRACES) list.shift();
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const tally = new LoadTally();
  const earlySeconds = options.earlySeconds ?? 10;
  const early = new LoadTally();
  const inFlight = new Set<Promise<void>>();
  const started = Date.now();
  const interval = 1000 / options.rate;
  const total = Math.round(options.rate * options.durationSeconds);
  let lastProgress = started;
  for (let i = 0; i < total && !options.signal?.aborted; i++) {
    const due = started + i * interval;
    if (due > Date.now()) await sleep(due - Date.now());
    const kind = pickKind(options.mix);
    const { url, init } = request(kind, options.url);
    const headers = new Headers(init.headers);
    headers.set('x-user-id', `u-${Math.floor(Math.random() * 500)}`);
    const faulted = Math.random() < options.faultRate;
    if (faulted) headers.set(FAULT_HEADER, `${pickOne(SERVICE_NAMES.filter((s) => s !== 'gateway'))}:error`);
    const begin = performance.now();
    const tallies = Date.now() - started < earlySeconds * 1000 ? [tally, early] : [tally];
    const add = (sample: Sample) => tallies.forEach((t) => t.add(sample));
    const task = fetch(url, { ...init, headers, signal: AbortSignal.timeout(30_000) })
      .then(async (response) => {
        const body = await response.arrayBuffer();
        const header = response.headers.get('traceresponse');
        return {
          kind,
          status: response.status,
          ms: performance.now() - begin,
          traceId: header?.split('-')[1],
          faulted,
          error: response.status >= 500 ? errorBody(body) : undefined,
        };
      })
      .catch((error: unknown): Sample => ({
        kind,
        status: 0,
        ms: performance.now() - begin,
        traceId: undefined,
        faulted,
        error: networkError(error),
      }))
      .then((sample) => {
        add(sample);
        if (!sample.faulted && (sample.status === 0 || sample.status >= 500))
          options.onFailure?.(tally.failureOf(sample));
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
    if (options.progress && Date.now() - lastProgress >= 2000) {
      lastProgress = Date.now();
      options.progress(
        `load: ${tally.done}/${total} done, ${tally.errors} server errors, ${inFlight.size} in flight`,
      );
    }
  }
  await Promise.all(inFlight);
  const report = tally.report((Date.now() - started) / 1000);
  if (report.seconds > earlySeconds) {
    report.early = { seconds: earlySeconds, sent: early.done, byKind: early.report(earlySeconds).byKind };
  }
  return report;
}

/** The error code and message of a JSON error body (`{error: {code, message}}`), or the start of the text. */
function errorBody(body: ArrayBuffer): { code: string; message: string } {
  const text = Buffer.from(body).toString('utf8');
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (error?.code) return { code: error.code, message: error.message ?? '' };
  } catch {
    // Not JSON: the text itself says what went wrong.
  }
  return { code: 'not_json', message: text.slice(0, 200) };
}

/** Why a request got no answer: fetch's cause (a socket error's code, e.g. ECONNRESET) or the abort (TimeoutError). */
export function networkError(error: unknown): { code: string; message: string } {
  const cause = (error as { cause?: { code?: string; message?: string; name?: string } }).cause;
  if (cause && typeof cause === 'object')
    return { code: cause.code ?? cause.name ?? 'unknown', message: cause.message ?? String(cause) };
  const { name, message } = error as Error;
  return { code: name ?? 'unknown', message: message ?? String(error) };
}

/**
 * What went wrong with a run, or undefined when it went well: nothing was sent, nothing answered, or the share of
 * server errors (a 5xx, or no answer at all) among the requests not asked to fail is above `max5xxPercent`.
 */
export function judgeReport(r: LoadReport, max5xxPercent: number): string | undefined {
  if (r.sent === 0) return 'no request was sent (rate × duration rounds to 0)';
  const unanswered = r.byStatus['0'] ?? 0;
  if (unanswered === r.sent)
    return `none of the ${r.sent} requests was answered: is the gateway at the URL up?`;
  const clean = r.sent - r.injected;
  const percent = clean === 0 ? 0 : (100 * r.serverErrors) / clean;
  if (percent > max5xxPercent) {
    return (
      `${r.serverErrors} of the ${clean} requests not asked to fail (${percent.toFixed(1)} %) got a server error ` +
      `or no answer, above the ${max5xxPercent} % allowed (--max-5xx)`
    );
  }
  return undefined;
}

export function formatReport(r: LoadReport): string {
  const lines = [
    `${r.sent} requests in ${r.seconds.toFixed(1)} s (${(r.sent / r.seconds).toFixed(1)} req/s); status counts: ${Object.entries(
      r.byStatus,
    )
      .map(([status, n]) => `${status === '0' ? 'no answer' : status}=${n}`)
      .join(' ')}`,
  ];
  // The header's cells are padded to the columns' usual widths, so short tables keep their familiar layout.
  const header = [
    'kind'.padEnd(9),
    'count'.padStart(6),
    '5xx'.padStart(4),
    ...['p50', 'p95', 'p99'].map((p) => `${p} ms`.padStart(8)),
  ];
  const rows = Object.entries(r.byKind).map(([kind, k]) => [
    kind,
    String(k.count),
    String(k.errors),
    ...[k.p50, k.p95, k.p99].map((ms) => ms.toFixed(1)),
  ]);
  lines.push(...formatTable([header, ...rows], { right: [1, 2, 3, 4, 5], gap: ' ' }));
  if (r.early) {
    const kinds = Object.entries(r.early.byKind).map(
      ([kind, k]) => `${kind} ${[k.p50, k.p95, k.p99].map((ms) => ms.toFixed(1)).join(' / ')}`,
    );
    lines.push(
      `first ${r.early.seconds} s (${r.early.sent} requests), p50 / p95 / p99 ms: ${kinds.join('; ')}`,
    );
  }
  lines.push(
    `${r.injected} asked to fail (fault header); ${r.serverErrors} other server errors or unanswered requests`,
  );
  lines.push(`sample trace IDs: ${r.sampleTraces.ok.join(' ') || '(none)'}`);
  if (r.failureGroups.length > 0) {
    lines.push('server errors not asked for, by cause:');
    for (const g of r.failureGroups)
      lines.push(
        `  ${g.count} × ${g.route} → ${g.status === 0 ? 'no answer' : g.status} ${g.code}: ${g.message} (trace ${g.traceIds[0] ?? '—'})`,
      );
  }
  if (r.sampleTraces.failed.length > 0) {
    lines.push(
      `failed requests: ${r.sampleTraces.failed.map((f) => `${f.traceId} (${f.kind} ${f.status})`).join(' ')}`,
    );
  }
  return lines.join('\n');
}
