/**
 * The compaction's read stage, in a worker thread with a small, fixed heap: raw objects (bytes fetched by the main
 * thread, one at a time) are gunzipped, parsed, flattened to rows and appended to NDJSON staging files on disk, a
 * megabyte at a time. V8 grows a heap lazily when nothing presses it (a million rows left a 200 MB heap behind in one
 * process); a worker with `resourceLimits` collects its garbage instead, so the stage's memory is bounded whatever
 * the batch holds.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { decompressed } from '../common/compression.ts';
import { jsBuild } from '../common/js-build.ts';
import type { LakeSignal } from './config.ts';
import type { EventDefinition } from '../tracker/schema.ts';
import type { Flattener, OtlpLogsDocument } from './flatten.ts';
import {
  countDataPoints,
  countLogRecords,
  countSpans,
  flattenLogs,
  flattenMetrics,
  flattenSpans,
  type OtlpMetricsDocument,
  type OtlpTracesDocument,
} from './flatten-telemetry.ts';
import { isProtoObject } from './raw-keys.ts';
import { tracesFromProto } from './otlp-proto.ts';
import { elideLongStrings, takeOversized } from './oversize.ts';
import type { TableName } from './tables.ts';

/**
 * Rows of one table (and, for events, one event name) staged as NDJSON. The worker imports neither the tables nor,
 * but for events, the event registry (≈ 25 MB per thread): the main thread knows the columns they are read as.
 */
export interface StagedFile {
  table: TableName;
  /** For the events table: the event name all its rows have. */
  eventName?: string;
  path: string;
  rows: number;
}

const WORKER_ROLE = 'observatory-lake-staging';
const STAGING_FLUSH_BYTES = 1 << 20;

/**
 * The worker's heap: one raw object's text and its parsed documents (each about the text's size) with room to spare,
 * so the largest object the lake accepts (lakeConfig `maxObjectMb`) fits; a larger one is refused before parsing.
 */
function workerLimits(maxObjectMb: number) {
  return { maxOldGenerationSizeMb: Math.max(64, maxObjectMb + 16), maxYoungGenerationSizeMb: 8 };
}

/** The limits one worker applies, from lakeConfig. */
export interface StagingLimits {
  maxObjectMb: number;
  maxRecordKb: number;
}

/** A raw object the worker could not stage (unreadable, too large, or it ran out of memory on it), and why. */
export class ObjectStagingError extends Error {
  readonly key: string;
  readonly reason: string;
  constructor(key: string, reason: string) {
    super(`${key}: ${reason}`);
    this.name = 'ObjectStagingError';
    this.key = key;
    this.reason = reason;
  }
}

type Request =
  { kind: 'begin'; dir: string } | { kind: 'object'; key: string; bytes: Uint8Array } | { kind: 'finish' };
type Reply =
  | { kind: 'begun' }
  | { kind: 'staged'; rowsIn: number; stagedBytes: number }
  | { kind: 'finished'; groups: StagedFile[] }
  | { kind: 'error'; message: string };

/**
 * Where the worker's code is: this very module built to JavaScript (common/js-build.ts) — a thread that strips
 * TypeScript keeps the stripper's ≈ 18 MiB resident for its life (docs/performance.md, issue 23) —, or, without a
 * build, this module itself. In the Lambda bundle and a local ETL sandbox, where this module is inlined into a bundle,
 * the build ships a copy of it on its own and leaves its URL under this symbol (deploy/aws/etl/build.ts,
 * etl/runtime/sandbox-build.ts).
 */
const BUNDLED_WORKER = Symbol.for('observatory.lake.stagingWorkerUrl');

export async function stagingWorkerUrl(): Promise<URL> {
  const bundled = (globalThis as Record<symbol, unknown>)[BUNDLED_WORKER] as string | undefined;
  if (bundled) return new URL(bundled);
  const built = await jsBuild({ entries: { staging: 'lake/staging.ts' } }).catch(() => undefined);
  return built?.staging ? pathToFileURL(built.staging) : new URL(import.meta.url);
}

/**
 * The main thread's handle on one staging worker (one signal, one batch), kept for every pass of the batch: a new
 * thread per pass left each one's heap behind in the allocator (RSS grew by ≈ 30 MB a pass).
 */
export class StagingWorker {
  private readonly worker: Worker;
  private pending: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | undefined;

  /** `url`: stagingWorkerUrl()'s. `published`: team events published beside the data (lake/schemas.ts), validated like ours. */
  constructor(
    url: URL,
    signal: LakeSignal,
    limits: StagingLimits,
    published: readonly EventDefinition[] = [],
  ) {
    this.worker = new Worker(url, {
      workerData: { role: WORKER_ROLE, signal, limits, published },
      resourceLimits: workerLimits(limits.maxObjectMb),
      // No preload (`--require ./instrumentation`) in the worker: it only flattens; the thread that owns it traces.
      execArgv: [],
    });
    this.worker.on('message', (reply: Reply) => this.settle((p) => p.resolve(reply)));
    this.worker.on('error', (error) => this.settle((p) => p.reject(error)));
    this.worker.on('exit', (code) =>
      this.settle((p) => p.reject(new Error(`the staging worker exited (code ${code})`))),
    );
  }

  /** Starts a pass: the rows of the objects staged next go to new NDJSON files in `dir`. */
  async begin(dir: string): Promise<void> {
    const reply = await this.request({ kind: 'begin', dir });
    if (reply.kind !== 'begun') throw new Error('the staging worker answered out of turn');
  }

  /**
   * Stages one raw object; returns the records, points or spans it held, and the NDJSON bytes staged so far. Throws
   * ObjectStagingError when the object cannot be staged; the worker (if it survived) then holds part of its rows,
   * so the caller discards the pass.
   */
  async stage(key: string, bytes: Uint8Array): Promise<{ rowsIn: number; stagedBytes: number }> {
    // Moved, not copied, when the bytes own their whole buffer; a slice (of Node's shared pool) is copied first.
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const own = whole && bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes);
    let reply: Reply;
    try {
      reply = await this.request({ kind: 'object', key, bytes: own }, [own.buffer as ArrayBuffer]);
    } catch (error) {
      throw new ObjectStagingError(key, error instanceof Error ? error.message : String(error));
    }
    if (reply.kind !== 'staged') throw new Error('the staging worker answered out of turn');
    return { rowsIn: reply.rowsIn, stagedBytes: reply.stagedBytes };
  }

  /** Flushes every staging file; returns the groups to load. */
  async finish(): Promise<StagedFile[]> {
    const reply = await this.request({ kind: 'finish' });
    if (reply.kind !== 'finished') throw new Error('the staging worker answered out of turn');
    return reply.groups;
  }

  async close(): Promise<void> {
    this.pending = undefined;
    await this.worker.terminate();
  }

  private async request(request: Request, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(request, transfer);
    });
    if (reply.kind === 'error') throw new Error(reply.message);
    return reply;
  }

  private settle(action: (pending: NonNullable<StagingWorker['pending']>) => void): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) action(pending);
  }
}

/** Appends rows to one NDJSON file per group, a megabyte at a time. */
class Staging {
  private readonly groups = new Map<string, StagedFile & { buffer: string[]; bytes: number }>();
  private readonly dir: string;
  /** NDJSON bytes staged, every group. */
  bytes = 0;

  constructor(dir: string) {
    this.dir = dir;
  }

  async add(table: TableName, row: object, eventName?: string): Promise<void> {
    const name = eventName === undefined ? table : `${table}/${eventName}`;
    let group = this.groups.get(name);
    if (!group) {
      const path = join(this.dir, `staged-${this.groups.size}.ndjson`);
      group = { table, eventName, path, rows: 0, buffer: [], bytes: 0 };
      this.groups.set(name, group);
    }
    const line = JSON.stringify(row);
    group.buffer.push(line);
    group.bytes += line.length + 1;
    this.bytes += line.length + 1;
    group.rows++;
    if (group.bytes >= STAGING_FLUSH_BYTES) await flush(group);
  }

  async finish(): Promise<StagedFile[]> {
    for (const group of this.groups.values()) await flush(group);
    return [...this.groups.values()].map(({ table, eventName, path, rows }) => ({
      table,
      eventName,
      path,
      rows,
    }));
  }
}

async function flush(group: { path: string; buffer: string[]; bytes: number }): Promise<void> {
  if (group.buffer.length === 0) return;
  await appendFile(group.path, `${group.buffer.join('\n')}\n`);
  group.buffer = [];
  group.bytes = 0;
}

/** One raw object's documents into the staging files; returns the rows it held. */
async function stageObject(
  signal: LakeSignal,
  key: string,
  bytes: Uint8Array,
  limits: StagingLimits,
  staging: Staging,
  flattener: () => Promise<Flattener>,
): Promise<number> {
  let rowsIn = 0;
  const maxRecordBytes = limits.maxRecordKb * 1024;
  const maxObjectBytes = limits.maxObjectMb * 2 ** 20;
  for (const document of rawDocuments(signal, key, bytes, maxObjectBytes, maxRecordBytes)) {
    const tooLarge = takeOversized(signal, document, maxRecordBytes);
    rowsIn += tooLarge.length;
    for (const row of tooLarge) await staging.add('rejected', row);
    rowsIn += await stageDocument(signal, document, staging, flattener);
  }
  return rowsIn;
}

async function stageDocument(
  signal: LakeSignal,
  document: unknown,
  staging: Staging,
  flattener: () => Promise<Flattener>,
): Promise<number> {
  if (signal === 'events') {
    const flat = (await flattener()).flatten(document as OtlpLogsDocument);
    for (const { typed, ...row } of flat.events) {
      await staging.add('events', { ...row, ...typed }, row.event_name);
    }
    for (const row of flat.rejected) await staging.add('rejected', row);
    return flat.records;
  }
  if (signal === 'logs') {
    for (const row of flattenLogs(document as OtlpLogsDocument)) await staging.add('logs', row);
    return countLogRecords(document as OtlpLogsDocument);
  }
  if (signal === 'metrics') {
    for (const row of flattenMetrics(document as OtlpMetricsDocument)) await staging.add('metrics', row);
    return countDataPoints(document as OtlpMetricsDocument);
  }
  for (const row of flattenSpans(document as OtlpTracesDocument)) await staging.add('spans', row);
  return countSpans(document as OtlpTracesDocument);
}

/**
 * A raw object's OTLP documents: OTLP protobuf (`.binpb…`, spans only: the lake's copy of spans is written so, the
 * cheaper form for the Collector) or OTLP JSON. Strings longer than a record may be are elided either way.
 */
function rawDocuments(
  signal: LakeSignal,
  key: string,
  bytes: Uint8Array,
  maxObjectBytes: number,
  maxRecordBytes: number,
): Iterable<unknown> {
  if (isProtoObject(key)) {
    if (signal !== 'traces')
      throw new Error(`raw object ${key} is not OTLP JSON: OTLP protobuf is read only for spans`);
    return [tracesFromProto(decompressed(key, bytes, maxObjectBytes), maxRecordBytes)];
  }
  // Neither the bytes nor the text are kept in a variable here: each is let go of as soon as the next form exists.
  const held = { text: elideLongStrings(decompressed(key, bytes, maxObjectBytes), maxRecordBytes) };
  return documents(key, held);
}

/**
 * The awss3 exporter writes one OTLP JSON document per object, or several, one per line, when it batched requests.
 * Lines are parsed one at a time, never split into an array of copies: the text is already the largest thing held.
 */
function* documents(key: string, held: { text?: string }): Generator<unknown> {
  const whole = parseWhole(key, held);
  if (whole !== undefined) {
    yield whole;
    return;
  }
  yield* parseLines(key, held.text ?? '');
}

/** The text as one document, letting go of the text (as large as the document) before it is flattened. */
function parseWhole(key: string, held: { text?: string }): unknown {
  try {
    const document = JSON.parse(held.text ?? '') as unknown;
    held.text = undefined;
    return document;
  } catch (error) {
    if (held.text?.includes('\n')) return undefined;
    throw new Error(`raw object ${key} is not OTLP JSON: ${(error as Error).message}`);
  }
}

function* parseLines(key: string, text: string): Generator<unknown> {
  let found = 0;
  for (let start = 0; start < text.length;) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    found++;
    let document: unknown;
    try {
      document = JSON.parse(line) as unknown;
    } catch (error) {
      throw new Error(`raw object ${key} is not OTLP JSON: line ${found}: ${(error as Error).message}`);
    }
    yield document;
  }
  if (found === 0) throw new Error(`raw object ${key} is not OTLP JSON`);
}

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === WORKER_ROLE) {
  const { signal, limits, published } = workerData as {
    signal: LakeSignal;
    limits: StagingLimits;
    published: EventDefinition[];
  };
  let staging: Staging | undefined;
  let loaded: Flattener | undefined;
  // Only the events worker checks records against the registry: the others never load it.
  const flattener = async () => (loaded ??= new (await import('./flatten.ts')).Flattener({ published }));
  const answer = async (request: Request): Promise<Reply> => {
    if (request.kind === 'begin') {
      staging = new Staging(request.dir);
      return { kind: 'begun' };
    }
    if (!staging) throw new Error('the staging worker was given work before a pass began');
    if (request.kind === 'finish') return { kind: 'finished', groups: await staging.finish() };
    const rowsIn = await stageObject(signal, request.key, request.bytes, limits, staging, flattener);
    return { kind: 'staged', rowsIn, stagedBytes: staging.bytes };
  };
  parentPort!.on('message', (request: Request) => {
    answer(request).then(
      (reply) => parentPort!.postMessage(reply),
      (error: unknown) =>
        parentPort!.postMessage({
          kind: 'error',
          message: error instanceof Error ? error.message : String(error),
        }),
    );
  });
}
