/**
 * Read-back clients for the real backends, keyed by ID: Jaeger's query API, Prometheus' query API and the S3 store.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { decompressed } from '../../common/compression.ts';
import { LOCAL_CREDENTIALS } from '../../common/config.ts';
import { S3Store } from '../../common/s3-store.ts';
import { inject } from 'vitest';
import { pollUntil } from './poll.ts';
import { s3ClientConfig } from '../../common/s3-store.ts';
import { tracesFromProto } from '../../lake/otlp-proto.ts';
import { isProtoObject } from '../../lake/raw-keys.ts';

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  /** Microseconds since the epoch. */
  startTime: number;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; type: string; value: unknown }[];
  processID: string;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

export function stackEndpoints() {
  const stack = inject('stack');
  const component = (name: string) => stack.components.find((c) => c.name === name)!;
  return {
    otlpHttp: component('collector').endpoints.otlpHttp!,
    jaeger: component('jaeger').endpoints.query!,
    prometheus: component('prometheus').endpoints.ui!,
    s3: stack.s3,
  };
}

/**
 * Waits until Jaeger has the trace with at least `minSpans` spans, or — given a predicate — until the predicate
 * holds (spans of one trace arrive from several processes, in batches).
 */
export async function fetchTrace(
  traceId: string,
  until: number | ((trace: JaegerTrace) => boolean) = 1,
  timeoutMs = 30_000,
): Promise<JaegerTrace> {
  const { jaeger } = stackEndpoints();
  const complete = typeof until === 'number' ? (trace: JaegerTrace) => trace.spans.length >= until : until;
  return pollUntil(
    `trace ${traceId} ${typeof until === 'number' ? `with ${until}+ spans` : 'complete'} in Jaeger`,
    async () => {
      const response = await fetch(`${jaeger}/api/traces/${traceId}`);
      if (response.status === 404) return undefined;
      const body = (await response.json()) as { data?: JaegerTrace[] };
      const trace = body.data?.[0];
      return trace && complete(trace) ? trace : undefined;
    },
    { timeoutMs },
  );
}

export function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export async function promQuery(query: string): Promise<PromSample[]> {
  const { prometheus } = stackEndpoints();
  const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { status: string; data: { result: PromSample[] }; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus rejected ${query}: ${body.error}`);
  return body.data.result;
}

export function s3Client(): S3Client {
  const { s3 } = stackEndpoints();
  return new S3Client(s3ClientConfig({ mode: 'local', credentials: { ...LOCAL_CREDENTIALS }, ...s3 }));
}

/** The shared stack's bucket, through the lake's store (list, read with gunzip). */
function sharedStore(): S3Store {
  const { s3 } = stackEndpoints();
  return new S3Store(s3Client(), s3.bucket);
}

export async function listKeys(prefix: string, store: S3Store = sharedStore()): Promise<string[]> {
  return (await store.list(prefix)).map((object) => object.key);
}

/**
 * Reads an object as text, decompressed as its key says; the lake's OTLP protobuf spans (`.binpb…`) as the OTLP JSON
 * of the same spans, so a test finds a trace ID in any raw object the same way.
 */
/** Writes an object to the shared stack's bucket. */
export async function putObject(key: string, body: string, store: S3Store = sharedStore()): Promise<void> {
  await store.put(key, body, 'application/json');
}

export async function readObject(key: string, store: S3Store = sharedStore()): Promise<string> {
  if (!isProtoObject(key)) return store.getText(key);
  return JSON.stringify(tracesFromProto(decompressed(key, await store.get(key))));
}

/** Waits for an object under `prefix` whose content contains `needle`; returns its key and text. */
export async function findObjectContaining(
  prefix: string,
  needle: string,
  timeoutMs = 30_000,
  store: S3Store = sharedStore(),
): Promise<{ key: string; text: string }> {
  const seen = new Set<string>();
  return pollUntil(
    `an object under s3://${store.bucket}/${prefix} containing ${needle}`,
    async () => {
      for (const key of await listKeys(prefix, store)) {
        if (seen.has(key)) continue;
        seen.add(key);
        const text = await readObject(key, store);
        if (text.includes(needle)) return { key, text };
      }
      return undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}
