/**
 * The compaction's read stage, in a worker thread with a small, fixed heap: raw objects (bytes fetched by the main
 * thread, one at a time) are gunzipped, parsed, flattened to rows and appended to NDJSON staging files on disk, a
 * megabyte at a time. V8 grows a heap lazily when nothing presses it (a million rows left a 200 MB heap behind in one
 * process); a worker with `resourceLimits` collects its garbage instead, so the stage's memory is bounded whatever
 * the batch holds.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { decompressedText } from '../common/compression.ts';
import type { LakeSignal } from './config.ts';
import { Flattener, type OtlpLogsDocument } from './flatten.ts';
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
import { eventColumnsOf, tableSpec, type Columns, type TableName, type TableSpec } from './tables.ts';

/** Rows of one table (and, for events, one event name) staged as NDJSON, with the columns they are read as. */
export interface StagedGroup {
  table: TableSpec;
  columns: Columns;
  path: string;
  rows: number;
}

const WORKER_ROLE = 'observatory-lake-staging';
const STAGING_FLUSH_BYTES = 1 << 20;
/** The worker's heap: one raw object (a few MB of JSON and its rows) fits many times over. */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 };

type Request = { kind: 'object'; key: string; bytes: Uint8Array } | { kind: 'finish' };
type Reply =
  | { kind: 'staged'; rowsIn: number; stagedBytes: number }
  | { kind: 'finished'; groups: { table: TableName; columns: Columns; path: string; rows: number }[] }
  | { kind: 'error'; message: string };

/**
 * Where the worker's code is: this very module — except in the Lambda bundle, where this module is inlined into the
 * handler's file and the build ships a copy of it on its own, whose URL it leaves under this symbol
 * (deploy/aws/etl/build.ts).
 */
const BUNDLED_WORKER = Symbol.for('observatory.lake.stagingWorkerUrl');
const workerUrl = () =>
  new URL(((globalThis as Record<symbol, unknown>)[BUNDLED_WORKER] as string | undefined) ?? import.meta.url);

/** The main thread's handle on one staging worker (one signal, one batch). */
export class StagingWorker {
  private readonly worker: Worker;
  private pending: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | undefined;

  constructor(dir: string, signal: LakeSignal) {
    this.worker = new Worker(workerUrl(), {
      workerData: { role: WORKER_ROLE, dir, signal },
      resourceLimits: WORKER_LIMITS,
      // No preload (`--require ./instrumentation`) in the worker: it only flattens; the thread that owns it traces.
      execArgv: [],
    });
    this.worker.on('message', (reply: Reply) => this.settle((p) => p.resolve(reply)));
    this.worker.on('error', (error) => this.settle((p) => p.reject(error)));
    this.worker.on('exit', (code) =>
      this.settle((p) => p.reject(new Error(`the staging worker exited (code ${code})`))),
    );
  }

  /** Stages one raw object; returns the records, points or spans it held, and the NDJSON bytes staged so far. */
  async stage(key: string, bytes: Uint8Array): Promise<{ rowsIn: number; stagedBytes: number }> {
    // A copy of its own: a Buffer may be a slice of Node's shared pool, which cannot be transferred.
    const own = new Uint8Array(bytes);
    const reply = await this.request({ kind: 'object', key, bytes: own }, [own.buffer]);
    if (reply.kind !== 'staged') throw new Error('the staging worker answered out of turn');
    return { rowsIn: reply.rowsIn, stagedBytes: reply.stagedBytes };
  }

  /** Flushes every staging file; returns the groups to load. */
  async finish(): Promise<StagedGroup[]> {
    const reply = await this.request({ kind: 'finish' });
    if (reply.kind !== 'finished') throw new Error('the staging worker answered out of turn');
    return reply.groups.map((g) => ({ ...g, table: tableSpec(g.table) }));
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
  private readonly groups = new Map<
    string,
    { table: TableName; columns: Columns; path: string; rows: number; buffer: string[]; bytes: number }
  >();
  private readonly dir: string;
  /** NDJSON bytes staged, every group. */
  bytes = 0;

  constructor(dir: string) {
    this.dir = dir;
  }

  async add(name: string, table: TableName, columns: Columns, row: object): Promise<void> {
    let group = this.groups.get(name);
    if (!group) {
      const path = join(this.dir, `staged-${this.groups.size}.ndjson`);
      group = { table, columns, path, rows: 0, buffer: [], bytes: 0 };
      this.groups.set(name, group);
    }
    const line = JSON.stringify(row);
    group.buffer.push(line);
    group.bytes += line.length + 1;
    this.bytes += line.length + 1;
    group.rows++;
    if (group.bytes >= STAGING_FLUSH_BYTES) await flush(group);
  }

  async finish() {
    for (const group of this.groups.values()) await flush(group);
    return [...this.groups.values()].map(({ table, columns, path, rows }) => ({
      table,
      columns,
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
  staging: Staging,
  flattener: Flattener,
): Promise<number> {
  const text = decompressedText(key, bytes);
  let rowsIn = 0;
  for (const document of parseDocuments(key, text)) {
    if (signal === 'events') {
      const flat = flattener.flatten(document as OtlpLogsDocument);
      rowsIn += flat.records;
      for (const { typed, ...row } of flat.events) {
        await staging.add(`events/${row.event_name}`, 'events', eventColumnsOf(row.event_name), {
          ...row,
          ...typed,
        });
      }
      for (const row of flat.rejected) await staging.add('rejected', 'rejected', REJECTED, row);
    } else if (signal === 'logs') {
      rowsIn += countLogRecords(document as OtlpLogsDocument);
      for (const row of flattenLogs(document as OtlpLogsDocument))
        await staging.add('logs', 'logs', LOGS, row);
    } else if (signal === 'metrics') {
      rowsIn += countDataPoints(document as OtlpMetricsDocument);
      for (const row of flattenMetrics(document as OtlpMetricsDocument)) {
        await staging.add('metrics', 'metrics', METRICS, row);
      }
    } else {
      rowsIn += countSpans(document as OtlpTracesDocument);
      for (const row of flattenSpans(document as OtlpTracesDocument))
        await staging.add('spans', 'spans', SPANS, row);
    }
  }
  return rowsIn;
}

const REJECTED = tableSpec('rejected').columns;
const LOGS = tableSpec('logs').columns;
const METRICS = tableSpec('metrics').columns;
const SPANS = tableSpec('spans').columns;

/** The awss3 exporter writes one OTLP JSON document per object, or several, one per line, when it batched requests. */
function parseDocuments(key: string, text: string): unknown[] {
  try {
    return [JSON.parse(text)];
  } catch {
    const documents = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as unknown);
    if (documents.length === 0) throw new Error(`raw object ${key} is not OTLP JSON`);
    return documents;
  }
}

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === WORKER_ROLE) {
  const { dir, signal } = workerData as { dir: string; signal: LakeSignal };
  const staging = new Staging(dir);
  const flattener = new Flattener();
  parentPort!.on('message', (request: Request) => {
    const answer = async (): Promise<Reply> => {
      if (request.kind === 'finish') return { kind: 'finished', groups: await staging.finish() };
      return {
        kind: 'staged',
        rowsIn: await stageObject(signal, request.key, request.bytes, staging, flattener),
        stagedBytes: staging.bytes,
      };
    };
    answer().then(
      (reply) => parentPort!.postMessage(reply),
      (error: unknown) =>
        parentPort!.postMessage({
          kind: 'error',
          message: error instanceof Error ? error.message : String(error),
        }),
    );
  });
}
