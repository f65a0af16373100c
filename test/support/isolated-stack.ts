/**
 * A whole stack of our own (Collector, Jaeger, Prometheus, S3 store) on ports base..base+12 with its own state
 * folder, running the Collector config committed in the repository. Tests of the Collector config use it instead of
 * the shared stack, because the shared Collector only reads its config when it starts: these tests must prove what is
 * in the working tree, not what was there when the shared stack came up. Stopped by pid file, never by name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { stackConfig } from '../../cli/stack/config.ts';
import { Stack, type StackStatus } from '../../cli/stack/stack.ts';
import type { JaegerTrace, PromSample } from './backends.ts';
import { pollUntil } from './poll.ts';
import { localS3Client } from '../../cli/stack/s3.ts';

const PORT_NAMES = [
  'COLLECTOR_OTLP_GRPC',
  'COLLECTOR_OTLP_HTTP',
  'COLLECTOR_HEALTH',
  'COLLECTOR_METRICS',
  'COLLECTOR_PROMETHEUS',
  'JAEGER_QUERY',
  'JAEGER_QUERY_GRPC',
  'JAEGER_OTLP_GRPC',
  'JAEGER_OTLP_HTTP',
  'JAEGER_HEALTH',
  'JAEGER_METRICS',
  'PROMETHEUS',
  'S3',
  'SQS',
];

export class IsolatedStack {
  readonly stack: Stack;
  status: StackStatus | undefined;

  constructor(base: number, extra: Record<string, string> = {}) {
    const env: Record<string, string | undefined> = {
      ...process.env,
      OBSERVATORY_STACK_DIR: mkdtempSync(join(tmpdir(), 'observatory-collector-test-')),
      OBSERVATORY_COLLECTOR_CONFIG: undefined,
      ...extra,
    };
    PORT_NAMES.forEach((name, i) => (env[`OBSERVATORY_${name}_PORT`] = String(base + i)));
    this.stack = new Stack({ config: stackConfig(env), say: () => {} });
  }

  async up(): Promise<StackStatus> {
    this.status = await this.stack.up();
    if (!this.status.healthy)
      throw new Error(`isolated stack in ${this.stack.config.stateDir} is not healthy`);
    return this.status;
  }

  async down(): Promise<void> {
    await this.stack.down();
    rmSync(this.stack.config.stateDir, { recursive: true, force: true });
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

  private s3(): S3Client {
    const { s3 } = this.stack.config;
    return localS3Client({ ...s3, endpoint: `http://127.0.0.1:${s3.port}` });
  }

  async listKeys(prefix: string): Promise<string[]> {
    const client = this.s3();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: this.stack.config.s3.bucket,
          Prefix: prefix,
          ContinuationToken: token,
        }),
      );
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async readObject(key: string): Promise<string> {
    const response = await this.s3().send(
      new GetObjectCommand({ Bucket: this.stack.config.s3.bucket, Key: key }),
    );
    const bytes = Buffer.from(await response.Body!.transformToByteArray());
    return (key.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  }

  /** Waits for an object under `prefix` whose content contains `needle`. */
  async findObjectContaining(
    prefix: string,
    needle: string,
    timeoutMs = 30_000,
  ): Promise<{ key: string; text: string }> {
    const seen = new Set<string>();
    return pollUntil(
      `an object under s3://…/${prefix} of the isolated stack containing ${needle}`,
      async () => {
        for (const key of await this.listKeys(prefix)) {
          if (seen.has(key)) continue;
          seen.add(key);
          const text = await this.readObject(key);
          if (text.includes(needle)) return { key, text };
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 500 },
    );
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
