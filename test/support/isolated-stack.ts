/**
 * An isolated stack (stack/isolated-stack.ts: a whole stack of its own — Collector, Jaeger, Prometheus, S3 store, SQS
 * server — on the 14 ports base..base+13 (stack/config.ts, portEnvironment), with its own state folder, running the
 * Collector config committed in the repository), with readers of its backends. Test files run two at a time, so each
 * takes a base of its own, 100 apart (those taken: `grep -rnE '2[45][0-9]00' test`). Tests of the Collector config
 * use it instead of the shared stack, because the shared Collector only reads its config when it starts: these tests
 * must prove what is in the working tree, not what was there when the shared stack came up. Stopped by pid file,
 * never by name.
 */
import { S3Store } from '../../common/s3-store.ts';
import { isolatedStack, type IsolatedStack } from '../../stack/isolated-stack.ts';
import type { Stack, StackStatus } from '../../stack/stack.ts';
import { findObjectContaining, listKeys, readObject, type JaegerTrace, type PromSample } from './backends.ts';
import { pollUntil } from './poll.ts';

export class IsolatedTestStack {
  private readonly isolated: IsolatedStack;
  readonly stack: Stack;

  /** `settings`: stack settings of this one (a Collector config, a spanmetrics flush interval). */
  constructor(base: number, settings: Record<string, string> = {}) {
    this.isolated = isolatedStack('test', base, { settings: () => settings });
    this.stack = this.isolated.stack;
  }

  up(): Promise<StackStatus> {
    return this.isolated.up();
  }

  down(): Promise<void> {
    return this.isolated.down();
  }

  get otlpHttp(): string {
    return `http://127.0.0.1:${this.stack.config.collector.otlpHttp}`;
  }

  private get jaeger(): string {
    return `http://127.0.0.1:${this.stack.config.jaeger.query}`;
  }

  private get prometheus(): string {
    return `http://127.0.0.1:${this.stack.config.prometheus.port}`;
  }

  async fetchTrace(traceId: string, minSpans = 1, timeoutMs = 30_000): Promise<JaegerTrace> {
    return pollUntil(
      `trace ${traceId} with ${minSpans}+ spans in the isolated Jaeger`,
      async () => {
        const response = await fetch(`${this.jaeger}/api/traces/${traceId}`);
        if (response.status === 404) return undefined;
        const body = (await response.json()) as { data?: JaegerTrace[] };
        const trace = body.data?.[0];
        return trace && trace.spans.length >= minSpans ? trace : undefined;
      },
      { timeoutMs },
    );
  }

  async promQuery(query: string): Promise<PromSample[]> {
    const response = await fetch(`${this.prometheus}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await response.json()) as {
      status: string;
      data: { result: PromSample[] };
      error?: string;
    };
    if (body.status !== 'success') throw new Error(`Prometheus rejected ${query}: ${body.error}`);
    return body.data.result;
  }

  /** Polls until the query returns at least one sample. */
  async promSamples(query: string, timeoutMs = 45_000): Promise<PromSample[]> {
    return pollUntil(
      `${query} in the isolated Prometheus`,
      async () => {
        const result = await this.promQuery(query);
        return result.length > 0 ? result : undefined;
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** This stack's bucket, through the lake's store. */
  private store(): S3Store {
    const { s3 } = this.stack.config;
    return S3Store.fromSettings(s3);
  }

  listKeys(prefix: string): Promise<string[]> {
    return listKeys(prefix, this.store());
  }

  readObject(key: string): Promise<string> {
    return readObject(key, this.store());
  }

  /** Waits for an object under `prefix` whose content contains `needle`. */
  findObjectContaining(
    prefix: string,
    needle: string,
    timeoutMs = 30_000,
  ): Promise<{ key: string; text: string }> {
    return findObjectContaining(prefix, needle, timeoutMs, this.store());
  }
}

/** OTLP JSON as the awss3 exporter writes it (otlp_json marshaler), reduced to what the tests read. */
export interface OtlpJsonValue {
  stringValue?: string;
  intValue?: string;
  boolValue?: boolean;
  kvlistValue?: { values: { key: string; value: OtlpJsonValue }[] };
}
export interface OtlpJsonLogRecord {
  eventName?: string;
  body?: OtlpJsonValue;
  attributes?: { key: string; value: OtlpJsonValue }[];
}
export interface OtlpJsonLogs {
  resourceLogs: { scopeLogs: { logRecords: OtlpJsonLogRecord[] }[] }[];
}

export function logRecords(text: string): OtlpJsonLogRecord[] {
  // An object may hold several JSON documents, one per line, when the exporter batches requests.
  return text
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) =>
      (JSON.parse(line) as OtlpJsonLogs).resourceLogs.flatMap((r) =>
        r.scopeLogs.flatMap((s) => s.logRecords),
      ),
    );
}

export function attribute(record: OtlpJsonLogRecord, key: string): OtlpJsonValue | undefined {
  return record.attributes?.find((a) => a.key === key)?.value;
}
