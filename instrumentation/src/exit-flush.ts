/**
 * The flush of an app's own `process.exit()` after a signal. exit() must not return — the app's code after it and
 * its timers must not run on — yet the spans and log records the app emitted while closing still wait in the batch
 * processors, and an export is asynchronous. So this flush is synchronous: it takes what the batch processors queue,
 * serializes it as OTLP/JSON, and has a short-lived child process post it while the app blocks on the child, within
 * the shutdown bound. Deliberate limits: a batch already on its way (exported before the exit) is not waited for;
 * metrics are not flushed (a collection is asynchronous); over gRPC nothing is (the child speaks OTLP/HTTP only).
 */
import { spawnSync } from 'node:child_process';
import { ExportResultCode } from '@opentelemetry/core';
import { JsonLogsSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { OtlpHttpTarget } from './config.ts';
import type { DeliveryCounter } from './delivery-counter.ts';
import type { Pipelines } from './pipelines.ts';

/** Posts each request's body and prints one line: a JSON array saying which requests were accepted. */
const SENDER = `
const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk)).on('end', async () => {
  const requests = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const accepted = await Promise.all(requests.map((r) =>
    fetch(r.url, { method: 'POST', headers: { ...r.headers, 'content-type': 'application/json' }, body: r.body })
      .then((response) => response.ok, () => false)));
  process.stdout.write(JSON.stringify(accepted) + '\\n');
});`;

interface Request {
  signal: 'spans' | 'logs';
  count: number;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Delivers what the batch processors queue before the process exits, blocking for at most `timeoutMillis`;
 * counts every item delivered or failed. Never throws: telemetry must not stand in the way of an exit.
 */
export function flushBeforeExit(
  pipelines: Pipelines,
  targets: { spans: OtlpHttpTarget | undefined; logs: OtlpHttpTarget | undefined },
  counter: DeliveryCounter,
  timeoutMillis: number,
): void {
  try {
    const spans = pipelines.spanProcessors.flatMap((p) => takeQueued<ReadableSpan>(p, '_finishedSpans'));
    const logs = pipelines.logRecordProcessors.flatMap((p) =>
      takeQueued<ReadableLogRecord>(p, '_finishedLogRecords'),
    );
    const requests: Request[] = [];
    if (spans.length > 0 && targets.spans)
      requests.push(
        request('spans', spans.length, targets.spans, JsonTraceSerializer.serializeRequest(spans)),
      );
    if (logs.length > 0 && targets.logs)
      requests.push(request('logs', logs.length, targets.logs, JsonLogsSerializer.serializeRequest(logs)));
    const accepted = requests.length > 0 ? post(requests, timeoutMillis) : [];
    requests.forEach((r, i) =>
      counter.track(r.signal, r.count, () => {})(
        accepted[i]
          ? { code: ExportResultCode.SUCCESS }
          : { code: ExportResultCode.FAILED, error: new Error('not delivered before exit') },
      ),
    );
  } catch {
    // The exit goes on; what was not delivered shows as dropped in the counts.
  }
}

/**
 * Empties a batch processor's queue and returns what it held. The queue is the SDK's private field (its versions
 * are pinned, and a test spawns a real app to prove this still works): no public call hands it over synchronously.
 */
function takeQueued<T>(processor: object, field: string): T[] {
  const holder = processor as Record<string, unknown>;
  const queued = holder[field];
  if (!Array.isArray(queued) || queued.length === 0) return [];
  holder[field] = [];
  return queued as T[];
}

function request(
  signal: Request['signal'],
  count: number,
  target: OtlpHttpTarget,
  body: Uint8Array | undefined,
): Request {
  return { signal, count, ...target, body: Buffer.from(body ?? []).toString('utf8') };
}

/** Which requests the collector accepted, in order; none when the child did not answer within the bound. */
function post(requests: Request[], timeoutMillis: number): boolean[] {
  const child = spawnSync(process.execPath, ['-e', SENDER], {
    input: JSON.stringify(requests.map(({ url, headers, body }) => ({ url, headers, body }))),
    timeout: timeoutMillis,
    encoding: 'utf8',
    // Not the app's environment: NODE_OPTIONS may preload this very instrumentation into the sender.
    env: {},
  });
  const line = child.stdout?.trim().split('\n').pop();
  return line ? (JSON.parse(line) as boolean[]) : [];
}
