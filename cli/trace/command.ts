/**
 * `observatory trace <id>` and `observatory trace --last`: argument handling, the waits and the statuses. Every
 * outcome has its own exit code (EXIT_CODES, documented in TRACE_USAGE) and a sentence instead of a bare 404.
 */
import { UsageError } from '../../common/errors.ts';
import { parseArgs } from 'node:util';
import type { Env } from '../../common/env.ts';
import { traceConfig, type TraceConfig } from './config.ts';
import { JaegerClient, JaegerUnreachableError, type JaegerTrace } from './jaeger-client.ts';
import { lakeTrace } from './lake-trace.ts';
import { buildDocument } from './model.ts';
import { formatMs, renderText } from './render.ts';
import { SignalReader, StoreUnavailableError } from './signal-reader.ts';
import { parseTraceId, TraceIdError } from './trace-id.ts';
import type { EventEntry, LogEntry } from './types.ts';

export const EXIT_CODES = {
  ok: 0,
  failed: 1,
  usage: 2,
  notFound: 3,
  notArrived: 4,
  jaegerUnreachable: 5,
  noLogsOrEvents: 6,
  storeUnavailable: 7,
} as const;

export const TRACE_USAGE = `usage: observatory trace <command>

  trace <id> [--json] [--wait S]
                               one request's whole flow: its trace as a waterfall, its logs and its business
                               events under the spans that emitted them, the critical path and a summary;
                               from the lake (curated/spans/, logs, events) when Jaeger no longer has it
  trace --last [--service S] [--errors] [--tag K=V]… [--limit N] [--json]
                               recent traces from Jaeger: ID, start, duration, spans, errors, root operation

  <id>        a trace ID (32 hex digits), a traceparent or a traceresponse value (00-<trace ID>-<span ID>-<flags>)
  --json      one document {trace_id, spans (tree), logs, events, summary} instead of text
  --wait S    poll up to S seconds until the trace has arrived and stopped growing (span count unchanged over
              two polls), and its logs and events likewise
  --service S only traces through service S (default: every service Jaeger knows)
  --errors    only traces with an error span
  --tag K=V   only traces with a span attribute K equal to V (e.g. --tag user.id=u-42); repeatable
  --limit N   at most N traces (default 20)

  exit codes  0 shown   1 failed   2 bad usage or malformed ID   3 not found (Jaeger keeps the last
              OBSERVATORY_JAEGER_RETENTION, then the lake)   4 not arrived yet (within --wait)
              5 Jaeger unreachable   6 trace shown, but no logs/events found for it
              7 trace shown, but the S3 store could not be read for its logs and events
`;

export interface TraceIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** @default process.env */
  env?: Env;
  /** Colour and Unicode when true (and NO_COLOR is unset). @default process.stdout.isTTY */
  isTTY?: boolean;
  /** Line width on a terminal. @default process.stdout.columns; 160 when piped */
  columns?: number;
}

const processIo: TraceIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const PLAIN_WIDTH = 160;
const DEFAULT_LIMIT = 20;

export async function traceCommand(args: string[], io: TraceIo = processIo): Promise<number> {
  const env = io.env ?? process.env;
  const say = (message: string) => io.err(`observatory trace: ${message}\n`);
  try {
    const { values, positionals } = parse(args);
    if (values.help) {
      io.out(TRACE_USAGE);
      return EXIT_CODES.ok;
    }
    const config = traceConfig(env);
    const jaeger = new JaegerClient(config.jaegerUrl, config.requestTimeoutMs);
    if (values.last) {
      if (positionals.length > 0)
        throw new UsageError(`--last takes no trace ID (got ${JSON.stringify(positionals[0])})`);
      if (values.wait !== undefined) throw new UsageError('--wait is for one trace, not --last');
      return await lastCommand(jaeger, config, io, {
        service: values.service,
        errors: values.errors ?? false,
        limit: wholeNumber(values.limit, 'limit', DEFAULT_LIMIT, 1),
        tags: tagsOf(values.tag ?? []),
        json: values.json ?? false,
      });
    }
    for (const name of ['service', 'errors', 'limit', 'tag'] as const) {
      if (values[name] !== undefined) throw new UsageError(`--${name} goes with --last`);
    }
    if (positionals.length === 0) throw new UsageError('trace needs a trace ID (or --last)');
    if (positionals.length > 1) throw new UsageError(`trace takes one trace ID, got ${positionals.length}`);
    const traceId = parseTraceId(positionals[0]!);
    const waitSeconds = wholeNumber(values.wait, 'wait', 0, 0);
    return await showTrace(traceId, waitSeconds, values.json ?? false, jaeger, config, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`observatory trace: ${error.message}\n\n${TRACE_USAGE}`);
      return EXIT_CODES.usage;
    }
    if (error instanceof TraceIdError) {
      say(error.message);
      return EXIT_CODES.usage;
    }
    if (error instanceof JaegerUnreachableError) {
      say(`${error.message} — is the stack up? (npx observatory stack status)`);
      return EXIT_CODES.jaegerUnreachable;
    }
    say((error as Error).message);
    return EXIT_CODES.failed;
  }
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        wait: { type: 'string' },
        last: { type: 'boolean' },
        service: { type: 'string' },
        errors: { type: 'boolean' },
        limit: { type: 'string' },
        tag: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function tagsOf(pairs: string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const tags: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--tag takes key=value (got ${JSON.stringify(pair)})`);
    tags[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return tags;
}

function wholeNumber(raw: string | undefined, name: string, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min) {
    throw new UsageError(`--${name} takes a whole number of at least ${min} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until its count is unchanged over two polls or the deadline passes; returns the last value. */
async function settle<T>(
  read: () => Promise<T>,
  count: (value: T) => number,
  deadline: number,
  intervalMs: number,
  zeroIsStable: boolean,
): Promise<{ value: T; stable: boolean }> {
  let value = await read();
  const counts = [count(value)];
  while (Date.now() + intervalMs <= deadline) {
    await sleep(intervalMs);
    value = await read();
    counts.push(count(value));
    const [a, b, c] = counts.slice(-3);
    if (counts.length >= 3 && (zeroIsStable || a! > 0) && a === b && b === c) return { value, stable: true };
  }
  const [b, c] = counts.slice(-2);
  return { value, stable: counts.length >= 2 && b === c };
}

async function showTrace(
  traceId: string,
  waitSeconds: number,
  json: boolean,
  jaeger: JaegerClient,
  config: TraceConfig,
  io: TraceIo,
): Promise<number> {
  const say = (message: string) => io.err(`observatory trace: ${message}\n`);
  const deadline = Date.now() + waitSeconds * 1000;
  const notes: string[] = [];
  let trace: JaegerTrace | undefined;
  if (waitSeconds === 0) trace = await jaeger.trace(traceId);
  else {
    const { value, stable } = await settle(
      () => jaeger.trace(traceId),
      (t) => t?.spans.length ?? 0,
      deadline,
      config.pollIntervalMs,
      false,
    );
    trace = value;
    if (trace && !stable) notes.push(`the trace was still growing when the wait (${waitSeconds} s) ended`);
  }
  let fromLake = false;
  if (!trace) {
    // Jaeger keeps OBSERVATORY_JAEGER_RETENTION; the lake keeps every span that was compacted.
    trace = await lakeTraceOrNote(traceId, config, notes);
    fromLake = trace !== undefined;
  }
  if (!trace) {
    if (waitSeconds > 0) {
      say(
        `trace ${traceId}: not arrived yet (waited ${waitSeconds} s), neither in Jaeger nor in the lake. Spans reach ` +
          `Jaeger in batches (OTEL_BSP_SCHEDULE_DELAY, 5 s by default), and the lake after compaction ` +
          `(npx observatory lake compact).`,
      );
      return EXIT_CODES.notArrived;
    }
    say(
      `trace ${traceId}: not found — neither Jaeger (it keeps traces for OBSERVATORY_JAEGER_RETENTION, 7 days by ` +
        `default) nor the lake's curated/spans/ has it; spans reach the lake when raw/traces/ is compacted ` +
        `(npx observatory lake compact), and one sent in the last few seconds may not have arrived yet: try --wait 30.` +
        (notes.length > 0 ? ` (${notes.join('; ')})` : ''),
    );
    return EXIT_CODES.notFound;
  }
  if (fromLake) {
    notes.unshift(
      'from the lake (curated/spans/): Jaeger no longer has this trace (older than its retention, or its store was reset)',
    );
    say(`trace ${traceId}: not in Jaeger — shown from the lake (curated/spans/)`);
  }

  const startMs = Math.min(...trace.spans.map((s) => s.startTime)) / 1000;
  const endMs = Math.max(...trace.spans.map((s) => s.startTime + s.duration)) / 1000;
  const reader = new SignalReader(config, undefined, { curatedLogs: fromLake });
  let logs: LogEntry[] = [];
  let events: EventEntry[] = [];
  let storeProblem: string | undefined;
  try {
    const readBoth = async () => {
      const [l, e] = await Promise.all([
        reader.logs(traceId, startMs, endMs),
        reader.events(traceId, startMs, endMs),
      ]);
      return { logs: l, events: e.events, notes: e.notes };
    };
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
    logs = both.logs;
    events = both.events;
    notes.push(...both.notes);
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    storeProblem = error.message;
    notes.push(`logs and events unknown: ${error.message}`);
  }

  const doc = buildDocument(trace, logs, events, notes);
  if (json) io.out(`${JSON.stringify(doc, null, 2)}\n`);
  else {
    const env = io.env ?? process.env;
    const tty = io.isTTY ?? process.stdout.isTTY === true;
    const color = tty && (env.NO_COLOR ?? '') === '';
    const width = tty ? (io.columns ?? process.stdout.columns ?? PLAIN_WIDTH) : (io.columns ?? PLAIN_WIDTH);
    io.out(renderText(doc, { color, width }));
  }
  if (storeProblem) {
    say(`logs and events unavailable: ${storeProblem}`);
    return EXIT_CODES.storeUnavailable;
  }
  if (logs.length === 0 && events.length === 0) {
    const window = (ms: number) => new Date(ms).toISOString();
    say(
      `no logs/events found for this trace (looked in ${config.logsPrefix} and ${config.eventsPrefix} for objects that ` +
        `arrived ${window(startMs - config.arrivalBeforeMs)} – ${window(endMs + config.arrivalAfterMs)}, and in the curated lake)` +
        (waitSeconds === 0 ? '; logs arrive a few seconds after spans: try --wait 30' : ''),
    );
    return EXIT_CODES.noLogsOrEvents;
  }
  return EXIT_CODES.ok;
}

/** The trace from the lake, or undefined (with a note when the lake could not be read). */
async function lakeTraceOrNote(
  traceId: string,
  config: TraceConfig,
  notes: string[],
): Promise<JaegerTrace | undefined> {
  try {
    return await lakeTrace(traceId, config);
  } catch (error) {
    notes.push(`the lake could not be read: ${(error as Error).message}`);
    return undefined;
  }
}

export interface TraceListing {
  trace_id: string;
  start_time: string;
  duration_ms: number;
  span_count: number;
  error: boolean;
  root_service: string;
  root_operation: string;
}

async function lastCommand(
  jaeger: JaegerClient,
  config: TraceConfig,
  io: TraceIo,
  options: {
    service: string | undefined;
    errors: boolean;
    limit: number;
    tags: Record<string, string> | undefined;
    json: boolean;
  },
): Promise<number> {
  // Jaeger's own spans are noise next to the application's.
  const services = options.service
    ? [options.service]
    : (await jaeger.services()).filter((s) => s !== 'jaeger');
  const traces = new Map<string, JaegerTrace>();
  for (const service of services) {
    for (const trace of await jaeger.search({
      service,
      // Jaeger 2.13's memory store does not match span status through the `error` tag, so errors are picked here,
      // among the newest traces of each service.
      limit: options.errors ? Math.max(options.limit, config.errorScanLimit) : options.limit,
      lookback: config.lastLookback,
      tags: options.tags,
    })) {
      traces.set(trace.traceID, trace);
    }
  }
  const listing = [...traces.values()]
    .map(listingOf)
    .filter((t) => !options.errors || t.error)
    .sort((a, b) => b.start_time.localeCompare(a.start_time) || a.trace_id.localeCompare(b.trace_id))
    .slice(0, options.limit);
  if (options.json) {
    io.out(`${JSON.stringify(listing, null, 2)}\n`);
    return EXIT_CODES.ok;
  }
  if (listing.length === 0) {
    io.err(
      `observatory trace: no ${options.errors ? 'error ' : ''}traces in the last ${config.lastLookback}` +
        `${options.service ? ` for service ${options.service}` : ''}\n`,
    );
    return EXIT_CODES.ok;
  }
  const rows = listing.map((t) => [
    t.trace_id,
    t.start_time.replace('T', ' ').slice(0, 23),
    formatMs(t.duration_ms),
    String(t.span_count),
    t.error ? 'ERROR' : '',
    `${t.root_service} ${t.root_operation}`,
  ]);
  const header = ['trace id', 'started (UTC)', 'duration', 'spans', 'error', 'root'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) {
    io.out(
      `${row
        .map((cell, i) => (i === 2 || i === 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
  return EXIT_CODES.ok;
}

function listingOf(trace: JaegerTrace): TraceListing {
  const ids = new Set(trace.spans.map((s) => s.spanID));
  const start = Math.min(...trace.spans.map((s) => s.startTime));
  const end = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
  const byStart = [...trace.spans].sort((a, b) => a.startTime - b.startTime);
  const root =
    byStart.find((s) => s.references.length === 0) ??
    byStart.find((s) => !s.references.some((r) => ids.has(r.spanID))) ??
    byStart[0]!;
  const isError = (tags: { key: string; value: unknown }[]) =>
    tags.some(
      (t) => (t.key === 'error' && t.value === true) || (t.key === 'otel.status_code' && t.value === 'ERROR'),
    );
  return {
    trace_id: trace.traceID,
    start_time: new Date(Math.floor(start / 1000)).toISOString(),
    duration_ms: Math.round(end - start) / 1000,
    span_count: trace.spans.length,
    error: trace.spans.some((s) => isError(s.tags)),
    root_service: trace.processes[root.processID]?.serviceName ?? 'unknown',
    root_operation: root.operationName,
  };
}
