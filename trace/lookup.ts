/**
 * One trace's document, in stages: fetch the trace from Jaeger → read its logs and events from the S3 store →
 * model them as one document. `observatory trace <id>` renders it; any other front end (a web page) can build the
 * same document with `buildTraceDocument`. With a wait, each stage polls until what it reads stops growing.
 */
import { pollUntil, PollTimeoutError } from '../common/poll.ts';
import { traceConfig, type TraceConfig } from './config.ts';
import { JaegerClient, type JaegerTrace } from './jaeger-client.ts';
import { lakeResources, lakeTrace, type LakeResource } from './lake-trace.ts';
import { buildDocument } from './model.ts';
import { SignalReader, StoreUnavailableError } from './signal-reader.ts';
import { parseTraceId } from './trace-id.ts';
import type { EventEntry, LogEntry, TraceDocument } from './types.ts';

export interface TraceLookupOptions {
  /** @default traceConfig() */
  config?: TraceConfig;
  /** @default a client of config.jaegerUrl */
  jaeger?: JaegerClient;
  /** @default a reader of the config's S3 store */
  reader?: SignalReader;
  /**
   * Poll up to this many seconds until the trace has arrived and stopped growing (span count unchanged over two
   * polls), and its logs and events likewise; 0 reads each once. @default 0
   */
  waitSeconds?: number;
  /** Read the logs and events from the S3 store (slower than the spans; a page may ask for them second). @default true */
  signals?: boolean;
}

/** What `buildTraceDocument` found. */
export type TraceLookup =
  | {
      found: true;
      document: TraceDocument;
      /** The S3 store could not be read: logs and events are unknown, not absent (the document's notes say so). */
      storeProblem: string | undefined;
      /** The trace's time span in ms since the epoch: logs and events were looked for around it. */
      startMs: number;
      endMs: number;
      /** Where the spans came from: Jaeger, or the lake's curated/spans/ when Jaeger no longer has the trace. */
      source: 'jaeger' | 'lake';
    }
  | {
      /** Neither Jaeger nor the lake has the trace (not arrived yet within the wait, or never compacted). */
      found: false;
      /** Why the lake could not be asked, when it could not. */
      notes: string[];
    };

/**
 * The document of one trace: its span tree with logs and events under their spans, the critical path and a summary
 * (what `observatory trace <id> --json` prints). `traceId` may be any form `parseTraceId` accepts; a malformed one
 * throws TraceIdError, and a Jaeger that does not answer JaegerUnreachableError.
 */
export async function buildTraceDocument(
  traceId: string,
  options: TraceLookupOptions = {},
): Promise<TraceLookup> {
  const id = parseTraceId(traceId);
  const config = options.config ?? traceConfig();
  const jaeger = options.jaeger ?? new JaegerClient(config.jaegerUrl, config.requestTimeoutMs);
  const waitSeconds = options.waitSeconds ?? 0;
  const deadline = Date.now() + waitSeconds * 1000;
  const fetched = await fetchTrace(id, jaeger, config, waitSeconds, deadline);
  let { trace } = fetched;
  let source: 'jaeger' | 'lake' = 'jaeger';
  if (!trace) {
    // Jaeger keeps its newest OBSERVATORY_JAEGER_MAX_TRACES traces, in memory; the lake every span that was compacted.
    const fromLake = await traceFromLake(id, config);
    if (!fromLake.trace) return { found: false, notes: fromLake.notes };
    trace = fromLake.trace;
    source = 'lake';
    fetched.notes.unshift(
      'from the lake (curated/spans/): Jaeger no longer has this trace (older than its retention, or its store was reset)',
    );
  }
  const startMs = Math.min(...trace.spans.map((s) => s.startTime)) / 1000;
  const endMs = Math.max(...trace.spans.map((s) => s.startTime + s.duration)) / 1000;
  // A trace from the lake has the whole resource already; Jaeger's lacks the process attributes (resource/jaeger).
  const fromLake = source === 'lake' ? resourcesOf(trace) : [];
  if (options.signals === false) {
    const document = buildDocument(trace, [], [], fetched.notes, fromLake);
    return { found: true, document, storeProblem: undefined, startMs, endMs, source };
  }
  const reader = options.reader ?? new SignalReader(config, undefined, { curatedLogs: source === 'lake' });
  const [signals, resources] = await Promise.all([
    readSignals(reader, id, { startMs, endMs }, config, waitSeconds, deadline),
    source === 'lake' ? { resources: fromLake, notes: [] } : wholeResources(id, config),
  ]);
  const notes = [...fetched.notes, ...signals.notes, ...resources.notes];
  const document = buildDocument(trace, signals.logs, signals.events, notes, resources.resources);
  return { found: true, document, storeProblem: signals.storeProblem, startMs, endMs, source };
}

/** The processes of a trace read from the lake, as resources. */
function resourcesOf(trace: JaegerTrace): LakeResource[] {
  return Object.values(trace.processes).map((p) => ({
    service: p.serviceName,
    attributes: Object.fromEntries((p.tags ?? []).map((t) => [t.key, t.value])),
  }));
}

/**
 * Stage 2b: the whole resource of each process from the lake (none before the trace is compacted); a lake that
 * cannot be read is a note, and the document keeps Jaeger's copy.
 */
async function wholeResources(
  traceId: string,
  config: TraceConfig,
): Promise<{ resources: LakeResource[]; notes: string[] }> {
  try {
    return { resources: await lakeResources(traceId, config), notes: [] };
  } catch (error) {
    return {
      resources: [],
      notes: [`the processes' whole resource could not be read from the lake: ${(error as Error).message}`],
    };
  }
}

/** Stage 1b: the trace from the lake's curated spans, or undefined (with a note when the lake could not be read). */
async function traceFromLake(
  traceId: string,
  config: TraceConfig,
): Promise<{ trace: JaegerTrace | undefined; notes: string[] }> {
  try {
    return { trace: await lakeTrace(traceId, config), notes: [] };
  } catch (error) {
    return { trace: undefined, notes: [`the lake could not be read: ${(error as Error).message}`] };
  }
}

/** Stage 1: the trace from Jaeger, once or (with a wait) once it has stopped growing. */
async function fetchTrace(
  traceId: string,
  jaeger: JaegerClient,
  config: TraceConfig,
  waitSeconds: number,
  deadline: number,
): Promise<{ trace: JaegerTrace | undefined; notes: string[] }> {
  if (waitSeconds === 0) return { trace: await jaeger.trace(traceId), notes: [] };
  const { value: trace, stable } = await settle(
    () => jaeger.trace(traceId),
    (t) => t?.spans.length ?? 0,
    deadline,
    config.pollIntervalMs,
    false,
  );
  const notes =
    trace && !stable ? [`the trace was still growing when the wait (${waitSeconds} s) ended`] : [];
  return { trace, notes };
}

/** Stage 2: the trace's logs and events from the S3 store; a store that cannot be read is a note, not a failure. */
async function readSignals(
  reader: SignalReader,
  traceId: string,
  span: { startMs: number; endMs: number },
  config: TraceConfig,
  waitSeconds: number,
  deadline: number,
): Promise<{ logs: LogEntry[]; events: EventEntry[]; notes: string[]; storeProblem: string | undefined }> {
  const readBoth = async () => {
    const [logs, events] = await Promise.all([
      reader.logs(traceId, span.startMs, span.endMs),
      reader.events(traceId, span.startMs, span.endMs),
    ]);
    return { logs, events: events.events, notes: events.notes };
  };
  try {
    const both =
      waitSeconds === 0
        ? await readBoth()
        : (
            await settle(
              readBoth,
              (v) => v.logs.length + v.events.length,
              Math.max(deadline, Date.now()),
              config.pollIntervalMs,
              true,
            )
          ).value;
    return { ...both, storeProblem: undefined };
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    const notes = [`logs and events unknown: ${error.message}`];
    return { logs: [], events: [], notes, storeProblem: error.message };
  }
}

/**
 * Polls `read` until its count is unchanged over three reads or the deadline passes; returns the last value and
 * whether it had settled. A failed read is thrown at once, as a single read's failure would be.
 */
async function settle<T>(
  read: () => Promise<T>,
  count: (value: T) => number,
  deadline: number,
  intervalMs: number,
  zeroIsStable: boolean,
): Promise<{ value: T; stable: boolean }> {
  const counts: number[] = [];
  let value!: T;
  let failure: { error: unknown } | undefined;
  const probe = async () => {
    try {
      value = await read();
    } catch (error) {
      failure = { error };
      return 'failed' as const;
    }
    counts.push(count(value));
    const [a, b, c] = counts.slice(-3);
    return counts.length >= 3 && (zeroIsStable || a! > 0) && a === b && b === c
      ? ('stable' as const)
      : undefined;
  };
  let outcome: 'stable' | 'failed' | undefined;
  try {
    const timeoutMs = Math.max(0, deadline - Date.now());
    outcome = await pollUntil('the counts to settle', probe, { timeoutMs, intervalMs });
  } catch (error) {
    if (!(error instanceof PollTimeoutError)) throw error;
  }
  if (failure) throw failure.error;
  if (outcome === 'stable') return { value, stable: true };
  const [b, c] = counts.slice(-2);
  return { value, stable: counts.length >= 2 && b === c };
}
