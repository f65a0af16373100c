/**
 * Traces outlive Jaeger's process and Jaeger's store, on a whole stack of our own (its own ports and state folder):
 * Jaeger keeps its newest traces in memory, so `stack down` / `stack up` empties it (deploy/local/jaeger.yaml), and
 * once Jaeger has lost a trace (restarted, or the trace evicted) `observatory trace` finds it in the lake — every
 * span, its log and its business event and its process's whole resource, from curated Parquet alone — and says so.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceCommand } from '../../cli/trace/command.ts';
import type { SpanNode, TraceDocument } from '../../trace/types.ts';
import { S3Store } from '../../common/s3-store.ts';
import { compactAll, lakeConfig } from '../../lake/index.ts';
import { uuidv7 } from '../../tracker/index.ts';
import { IsolatedTestStack } from '../support/isolated-stack.ts';
import { pollUntil } from '../support/poll.ts';

const isolated = new IsolatedTestStack(24900);
const traceId = randomBytes(16).toString('hex');
const [root, child, grandchild] = [0, 1, 2].map(() => randomBytes(8).toString('hex')) as [
  string,
  string,
  string,
];
const eventId = uuidv7();
const logLine = `scene search planned ${traceId.slice(0, 8)}`;
const cacheDir = mkdtempSync(join(tmpdir(), 'lake-persistence-cache-'));

const kv = (key: string, value: object) => ({ key, value });
const nanos = (ms: number) => String(BigInt(ms) * 1_000_000n);
const resource = {
  attributes: [
    kv('service.name', { stringValue: 'lake-persist' }),
    kv('host.name', { stringValue: 'persist-host' }),
    kv('process.pid', { intValue: '4242' }),
    kv('process.runtime.version', { stringValue: '24.21.0' }),
  ],
};

async function post(path: string, body: object): Promise<void> {
  const response = await fetch(`${isolated.otlpHttp}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
}

/** A three-span request, an app log and a business event, all with the trace ID, as a service's SDK sends them. */
async function sendRequest(): Promise<void> {
  const t0 = Date.now() - 2000;
  const span = (
    spanId: string,
    parent: string,
    name: string,
    kind: number,
    from: number,
    to: number,
    extra = {},
  ) => ({
    traceId,
    spanId,
    parentSpanId: parent,
    name,
    kind,
    startTimeUnixNano: nanos(t0 + from),
    endTimeUnixNano: nanos(t0 + to),
    attributes: [kv('http.route', { stringValue: '/api/scenes' })],
    status: {},
    ...extra,
  });
  await post('/v1/traces', {
    resourceSpans: [
      {
        resource,
        scopeSpans: [
          {
            scope: { name: 'lake-persistence' },
            spans: [
              span(root, '', 'GET /api/scenes', 2, 0, 300),
              span(child, root, 'GET', 3, 20, 250),
              span(grandchild, child, 'plan tiles', 1, 30, 120, {
                status: { code: 2, message: 'tile index stale' },
                events: [
                  {
                    timeUnixNano: nanos(t0 + 100),
                    name: 'exception',
                    attributes: [
                      kv('exception.type', { stringValue: 'StaleIndexError' }),
                      kv('exception.message', { stringValue: 'tile index stale' }),
                    ],
                  },
                ],
              }),
            ],
          },
        ],
      },
    ],
  });
  await post('/v1/logs', {
    resourceLogs: [
      {
        resource,
        scopeLogs: [
          {
            scope: { name: 'pino' },
            logRecords: [
              {
                timeUnixNano: nanos(t0 + 40),
                severityNumber: 9,
                severityText: 'info',
                body: { stringValue: logLine },
                traceId,
                spanId: grandchild,
              },
              {
                timeUnixNano: nanos(t0 + 200),
                eventName: 'search_made',
                body: {
                  kvlistValue: {
                    values: [
                      kv('query', { stringValue: 'ndvi' }),
                      kv('n_results', { intValue: '4' }),
                      kv('user_id', { stringValue: 'u-persist' }),
                    ],
                  },
                },
                attributes: [
                  kv('event.id', { stringValue: eventId }),
                  kv('event.schema_version', { stringValue: '1-0-0' }),
                ],
                traceId,
                spanId: child,
              },
            ],
          },
        ],
      },
    ],
  });
}

const jaegerUrl = () => `http://127.0.0.1:${isolated.stack.config.jaeger.query}`;
const store = () => S3Store.fromSettings(isolated.stack.config.s3);
const edges = (spans: { id: string; parent: string | null }[]) =>
  Object.fromEntries(spans.map((s) => [s.id, s.parent]));

beforeAll(async () => {
  await isolated.up();
  await sendRequest();
}, 180_000);
afterAll(async () => {
  await isolated.down();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe("Jaeger's memory store", () => {
  it('holds the trace until Jaeger restarts, then no longer (the lake is the persistence)', async () => {
    await isolated.fetchTrace(traceId, 3);
    await isolated.stack.down();
    const status = await isolated.stack.up();
    expect(status.healthy).toBe(true);
    expect((await fetch(`${jaegerUrl()}/api/traces/${traceId}`)).status).toBe(404);
  }, 120_000);
});

describe('observatory trace', () => {
  it('finds a trace Jaeger has lost in the lake, with its spans, log and event, and says so', async () => {
    // The raw objects reach the store, then compaction puts them in the curated zone.
    const config = { ...lakeConfig(), s3: isolated.stack.config.s3, cacheDir };
    const raw = (signal: string) =>
      pollUntil(
        `raw/${signal}/ objects with trace ${traceId} in the isolated store`,
        async () => {
          const keys: string[] = [];
          for (const key of await isolated.listKeys(`raw/${signal}/`)) {
            if ((await isolated.readObject(key)).includes(traceId)) keys.push(key);
          }
          return keys.length > 0 ? keys : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 1000 },
      );
    const rawKeys = { traces: await raw('traces'), logs: await raw('logs'), events: await raw('events') };
    const compaction = await compactAll({ config, store: store() });
    expect(compaction.signals.traces.rowsOut).toBeGreaterThanOrEqual(3);

    // Jaeger loses the trace again: stopped and started (its memory store starts empty).
    const jaeger = (await isolated.stack.status()).components.find((c) => c.name === 'jaeger')!;
    process.kill(jaeger.pid!, 'SIGTERM');
    await pollUntil(
      'the isolated Jaeger to exit',
      async () =>
        (await isolated.stack.status()).components.find((c) => c.name === 'jaeger')!.running
          ? undefined
          : true,
      { timeoutMs: 15_000 },
    );
    await isolated.stack.up(['jaeger']);
    expect((await fetch(`${jaegerUrl()}/api/traces/${traceId}`)).status).toBe(404);
    // The raw log and event objects expire too: what is shown must come from curated Parquet.
    for (const key of [...rawKeys.logs, ...rawKeys.events]) {
      await store().client.send(new DeleteObjectCommand({ Bucket: store().bucket, Key: key }));
    }

    const io = { out: '', err: '' };
    const code = await traceCommand([traceId, '--json'], {
      out: (t) => (io.out += t),
      err: (t) => (io.err += t),
      env: {
        ...process.env,
        OBSERVATORY_JAEGER_URL: jaegerUrl(),
        OBSERVATORY_S3_MODE: 'local',
        OBSERVATORY_S3_ENDPOINT: isolated.stack.config.s3.endpoint,
        OBSERVATORY_S3_BUCKET: isolated.stack.config.s3.bucket,
        OBSERVATORY_LAKE_CACHE_DIR: cacheDir,
      },
    });
    expect(io.err).toContain(`trace ${traceId}: not in Jaeger — shown from the lake (curated/spans/)`);
    expect(code).toBe(0);
    const doc = JSON.parse(io.out) as TraceDocument;
    const flat = (nodes: SpanNode[]): SpanNode[] => nodes.flatMap((n) => [n, ...flat(n.children)]);
    const spans = flat(doc.spans);
    expect(edges(spans.map((s) => ({ id: s.span_id, parent: s.parent_span_id })))).toEqual({
      [root]: null,
      [child]: root,
      [grandchild]: child,
    });
    expect(spans.map((s) => [s.service, s.kind, s.name, s.status])).toEqual([
      ['lake-persist', 'server', 'GET /api/scenes', 'unset'],
      ['lake-persist', 'client', 'GET', 'unset'],
      ['lake-persist', 'internal', 'plan tiles', 'error'],
    ]);
    expect(spans[2]!.exceptions).toEqual([
      { type: 'StaleIndexError', message: 'tile index stale', stacktrace: null },
    ]);
    expect(spans[0]!.duration_ms).toBe(300);
    expect(doc.logs).toEqual([expect.objectContaining({ body: logLine, span_id: grandchild, placed: true })]);
    expect(doc.events).toEqual([
      expect.objectContaining({
        event_id: eventId,
        event_name: 'search_made',
        source: 'curated',
        span_id: child,
      }),
    ]);
    expect(doc.summary.notes[0]).toMatch(
      /^from the lake \(curated\/spans\/\): Jaeger no longer has this trace/,
    );
    expect(doc.processes).toEqual([
      {
        service: 'lake-persist',
        attributes: expect.objectContaining({
          'service.name': 'lake-persist',
          'host.name': 'persist-host',
          'process.pid': 4242,
          'process.runtime.version': '24.21.0',
        }),
        source: 'lake',
      },
    ]);
  }, 120_000);
});
