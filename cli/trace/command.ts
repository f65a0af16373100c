/**
 * `observatory trace <id>` and `observatory trace --last`: argument handling, the waits and the statuses. Every
 * outcome has its own exit code (EXIT_CODES, documented in TRACE_USAGE) and a sentence instead of a bare 404.
 */
import { UsageError } from '../../common/errors.ts';
import { formatTable } from '../../common/table.ts';
import type { Env } from '../../common/env.ts';
import { parseOptions } from '../args.ts';
import { formatMs, renderText, type RenderOptions } from './render.ts';
import {
  applicationServices,
  buildTraceDocument,
  JaegerClient,
  JaegerUnreachableError,
  listingOf,
  parseTraceId,
  traceConfig,
  TraceIdError,
  type JaegerTrace,
  type TraceConfig,
  type TraceListing,
  type TraceLookup,
} from '../../trace/index.ts';
import type { Verb } from '../verb.ts';

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

const TRACE_USAGE = `usage: observatory trace <command>

  trace <id> [--json] [--wait S]
                               one request's whole flow: its trace as a waterfall, its logs and its business
                               events under the spans that emitted them, the critical path, a summary and
                               each process's whole resource (from the lake once compacted);
                               from the lake (curated/spans/, logs, events) when Jaeger no longer has it
  trace --last [--service S] [--errors] [--tag K=V]… [--limit N] [--json]
                               recent traces from Jaeger: ID, start, duration, spans, errors, root operation

  <id>        a trace ID (32 hex digits), a traceparent or a traceresponse value (00-<trace ID>-<span ID>-<flags>)
  --json      one document {trace_id, spans (tree), processes, logs, events, summary} instead of text
  --wait S    poll up to S seconds until the trace has arrived and stopped growing (span count unchanged over
              two polls), and its logs and events likewise
  --service S only traces through service S (default: every service Jaeger knows)
  --errors    only traces with an error span
  --tag K=V   only traces with a span attribute K equal to V (e.g. --tag user.id=u-42); repeatable
  --limit N   at most N traces (default 20)

  exit codes  0 shown   1 failed   2 bad usage or malformed ID   3 not found (Jaeger keeps the newest
              OBSERVATORY_JAEGER_MAX_TRACES traces, then the lake)   4 not arrived yet (within --wait)
              5 Jaeger unreachable   6 trace shown, but no logs/events found for it
              7 trace shown, but the S3 store could not be read for its logs and events
`;

export const verb: Verb = { name: 'trace', usage: TRACE_USAGE, run: traceCommand, ownHelp: true };

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

/** Strict options (cli/args.ts): an unknown flag or a missing value is a usage error. */
function parse(args: string[]) {
  const { values, positionals } = parseOptions(
    args,
    ['wait', 'service', 'limit', 'tag'],
    ['json', 'last', 'errors', 'help'],
    true,
    { multiple: ['tag'], short: { h: 'help' } },
  );
  const text = (name: string) => values[name] as string | undefined;
  const flag = (name: string) => values[name] as boolean | undefined;
  return {
    positionals,
    values: {
      json: flag('json'),
      wait: text('wait'),
      last: flag('last'),
      service: text('service'),
      errors: flag('errors'),
      limit: text('limit'),
      tag: values.tag as string[] | undefined,
      help: flag('help'),
    },
  };
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

/** Stages: build the document (trace/lookup.ts: fetch → read logs and events → model), then render it. */
async function showTrace(
  traceId: string,
  waitSeconds: number,
  json: boolean,
  jaeger: JaegerClient,
  config: TraceConfig,
  io: TraceIo,
): Promise<number> {
  const lookup = await buildTraceDocument(traceId, { config, jaeger, waitSeconds });
  if (!lookup.found) return sayNotFound(traceId, waitSeconds, lookup.notes, io);
  if (lookup.source === 'lake')
    io.err(`observatory trace: trace ${traceId}: not in Jaeger — shown from the lake (curated/spans/)\n`);
  io.out(
    json
      ? `${JSON.stringify(lookup.document, null, 2)}\n`
      : renderText(lookup.document, textOptions(config, io)),
  );
  return finalStatus(lookup, waitSeconds, config, io);
}

function sayNotFound(traceId: string, waitSeconds: number, notes: string[], io: TraceIo): number {
  const say = (message: string) => io.err(`observatory trace: ${message}\n`);
  if (waitSeconds > 0) {
    say(
      `trace ${traceId}: not arrived yet (waited ${waitSeconds} s), neither in Jaeger nor in the lake. Spans reach ` +
        `Jaeger in batches (OTEL_BSP_SCHEDULE_DELAY, 200 ms under our preload, 5 s the SDK's default), and the lake after compaction ` +
        `(npx observatory lake compact).`,
    );
    return EXIT_CODES.notArrived;
  }
  say(
    `trace ${traceId}: not found — neither Jaeger (it keeps the newest OBSERVATORY_JAEGER_MAX_TRACES traces, 5 000 ` +
      `by default, in memory) nor the lake's curated/spans/ has it; spans reach the lake when raw/traces/ is compacted ` +
      `(npx observatory lake compact), and one sent in the last few seconds may not have arrived yet: try --wait 30.` +
      (notes.length > 0 ? ` (${notes.join('; ')})` : ''),
  );
  return EXIT_CODES.notFound;
}

/** Colour and Unicode on a terminal (unless NO_COLOR), its width; plain and PLAIN_WIDTH wide when piped. */
function textOptions(config: TraceConfig, io: TraceIo): RenderOptions {
  const tty = io.isTTY ?? process.stdout.isTTY === true;
  const color = tty && !config.noColor;
  const width = tty ? (io.columns ?? process.stdout.columns ?? PLAIN_WIDTH) : (io.columns ?? PLAIN_WIDTH);
  return { color, width };
}

/** The exit code of a shown trace: whether its logs and events could be read, and whether there were any. */
function finalStatus(
  lookup: Extract<TraceLookup, { found: true }>,
  waitSeconds: number,
  config: TraceConfig,
  io: TraceIo,
): number {
  const say = (message: string) => io.err(`observatory trace: ${message}\n`);
  if (lookup.storeProblem) {
    say(`logs and events unavailable: ${lookup.storeProblem}`);
    return EXIT_CODES.storeUnavailable;
  }
  const { document, startMs, endMs } = lookup;
  if (document.logs.length === 0 && document.events.length === 0) {
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

export type { TraceListing };

interface LastOptions {
  service: string | undefined;
  errors: boolean;
  limit: number;
  tags: Record<string, string> | undefined;
  json: boolean;
}

/** Stages: search Jaeger for recent traces, then print them as JSON or a table. */
async function lastCommand(
  jaeger: JaegerClient,
  config: TraceConfig,
  io: TraceIo,
  options: LastOptions,
): Promise<number> {
  const listing = await recentTraces(jaeger, config, options);
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
  for (const line of formatTable([header, ...rows], { right: [2, 3] })) io.out(`${line}\n`);
  return EXIT_CODES.ok;
}

/** The newest traces of each service (or the one asked for), newest first, filtered and cut to the limit. */
async function recentTraces(
  jaeger: JaegerClient,
  config: TraceConfig,
  options: LastOptions,
): Promise<TraceListing[]> {
  const services = options.service ? [options.service] : applicationServices(await jaeger.services());
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
  return [...traces.values()]
    .map(listingOf)
    .filter((t) => !options.errors || t.error)
    .sort((a, b) => b.start_time.localeCompare(a.start_time) || a.trace_id.localeCompare(b.trace_id))
    .slice(0, options.limit);
}
