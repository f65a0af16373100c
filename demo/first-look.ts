/**
 * The demo's first look: one search of its own, sent as soon as the services listen, and the console's page of its
 * trace printed once the console can show all of it — every span from Jaeger, its log lines and business events from
 * the S3 store. The page reads the logs and events once, when it opens: a link printed before they had arrived would
 * open on a waterfall without them. The load starts at the same time; this waits on its own.
 */
import { pollUntil, PollTimeoutError } from '../common/poll.ts';

/** A search that finds scenes: the gateway, the catalog's lookups, a log line and a `search_made` event. */
const FIRST_SEARCH = '/api/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-03&limit=3';

/**
 * How long to wait for the whole trace. Spans reach Jaeger and logs the S3 store within ≈ 2–3 s of the response
 * (1 s export delay in the services, the Collector's 1 s batch); a busy machine takes longer.
 */
const FIRST_LOOK_TIMEOUT_MS = 60_000;

/** What the console's `/api/traces/<id>` answers, as far as the first look reads it. */
interface TraceView {
  spans: unknown[];
  summary: { span_count: number; log_count: number; event_count: number; notes: string[] };
}

/**
 * Sends the first search and waits until the console shows its whole trace; returns the page's URL, or undefined
 * (saying why) when the search failed or the trace did not complete in time. Never throws: the demo goes on.
 */
export async function firstLook(
  gateway: string,
  consoleUrl: string,
  signal: AbortSignal,
  say: (line: string) => void,
): Promise<string | undefined> {
  try {
    const traceId = await firstSearch(gateway, signal);
    await pollUntil(`trace ${traceId} whole in the console`, completeTrace(consoleUrl, traceId, signal), {
      timeoutMs: FIRST_LOOK_TIMEOUT_MS,
      intervalMs: 500,
      signal,
    });
    return `${consoleUrl}/traces/${traceId}`;
  } catch (error) {
    if (!signal.aborted) {
      const why =
        error instanceof PollTimeoutError ? 'did not arrive whole in time' : (error as Error).message;
      say(`demo: no first trace to show (${why}); the links after the load still follow`);
    }
    return undefined;
  }
}

/** The trace ID of one search, from its traceresponse header. */
async function firstSearch(gateway: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(`${gateway}${FIRST_SEARCH}`, { signal });
  await response.arrayBuffer();
  const traceId = /^00-([0-9a-f]{32})-/.exec(response.headers.get('traceresponse') ?? '')?.[1];
  if (!response.ok || !traceId) throw new Error(`the first search answered ${response.status}`);
  return traceId;
}

/**
 * A poll that succeeds once the trace is whole: one root (no span waiting for its parent), at least one log line
 * and one business event, and as many spans as at the previous poll (the services export in batches, so the last
 * ones may arrive a second after the first).
 */
function completeTrace(
  consoleUrl: string,
  traceId: string,
  signal: AbortSignal,
): () => Promise<true | undefined> {
  let previousSpans = -1;
  return async () => {
    const response = await fetch(`${consoleUrl}/api/traces/${traceId}`, { signal });
    if (!response.ok) {
      await response.arrayBuffer();
      return undefined;
    }
    const view = (await response.json()) as TraceView;
    const { span_count, log_count, event_count } = view.summary;
    const stable = span_count === previousSpans;
    previousSpans = span_count;
    return stable && view.spans.length === 1 && log_count > 0 && event_count > 0 ? true : undefined;
  };
}
