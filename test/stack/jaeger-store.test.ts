/**
 * Jaeger's store is bounded and slim, and nothing is lost to the user, on a whole stack of our own with room for three
 * traces (OBSERVATORY_JAEGER_MAX_TRACES=3): Jaeger keeps the newest three and forgets older ones; its copy of a
 * resource lacks the repeated process attributes the Collector drops on the Jaeger path (collector-config/local.yaml,
 * resource/jaeger), while the lake keeps the whole resource; and `observatory trace` shows the whole resource from the
 * lake, for a trace Jaeger still has and for one it has forgotten.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES, traceCommand } from '../../cli/trace/command.ts';
import { S3Store } from '../../common/s3-store.ts';
import { compactAll, lakeConfig } from '../../lake/index.ts';
import type { TraceDocument } from '../../trace/types.ts';
import { IsolatedTestStack } from '../support/isolated-stack.ts';
import { pollUntil } from '../support/poll.ts';

const MAX_TRACES = 3;
const isolated = new IsolatedTestStack(25700, { OBSERVATORY_JAEGER_MAX_TRACES: String(MAX_TRACES) });
const traceIds = Array.from({ length: MAX_TRACES + 3 }, () => randomBytes(16).toString('hex'));
const cacheDir = mkdtempSync(join(tmpdir(), 'jaeger-store-cache-'));

const kv = (key: string, value: object) => ({ key, value });
const nanos = (ms: number) => String(BigInt(ms) * 1_000_000n);

/** What the preload's resource detectors put on every span of a process (instrumentation/src/sdk.ts). */
const resource = {
  attributes: [
    kv('service.name', { stringValue: 'store-probe' }),
    kv('service.version', { stringValue: '2.0.1' }),
    kv('host.name', { stringValue: 'probe-host' }),
    kv('host.arch', { stringValue: 'amd64' }),
    kv('os.type', { stringValue: 'linux' }),
    kv('process.pid', { intValue: '31337' }),
    kv('process.executable.path', { stringValue: '/usr/local/bin/node' }),
    kv('process.command_args', {
      arrayValue: { values: [{ stringValue: 'node' }, { stringValue: 'server.js' }] },
    }),
    kv('process.runtime.description', { stringValue: 'Node.js' }),
    kv('telemetry.sdk.language', { stringValue: 'nodejs' }),
  ],
};

const jaegerUrl = () => `http://127.0.0.1:${isolated.stack.config.jaeger.query}`;
const inJaeger = async (traceId: string) =>
  (await fetch(`${jaegerUrl()}/api/traces/${traceId}`)).status === 200;

/** One request's server span, as a service's SDK sends it. */
async function sendTrace(traceId: string): Promise<void> {
  const t0 = Date.now() - 1000;
  const response = await fetch(`${isolated.otlpHttp}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource,
          scopeSpans: [
            {
              scope: { name: 'jaeger-store' },
              spans: [
                {
                  traceId,
                  spanId: randomBytes(8).toString('hex'),
                  name: 'GET /api/scenes',
                  kind: 2,
                  startTimeUnixNano: nanos(t0),
                  endTimeUnixNano: nanos(t0 + 40),
                  attributes: [kv('http.route', { stringValue: '/api/scenes' })],
                  status: {},
                },
              ],
            },
          ],
        },
      ],
    }),
  });
  if (!response.ok) throw new Error(`POST /v1/traces: ${response.status} ${await response.text()}`);
}

async function traceJson(traceId: string): Promise<{ code: number; doc: TraceDocument; text: string }> {
  const run = async (args: string[]) => {
    const io = { out: '', err: '' };
    const code = await traceCommand(args, {
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
    return { code, out: io.out };
  };
  const json = await run([traceId, '--json']);
  const text = await run([traceId]);
  return { code: json.code, doc: JSON.parse(json.out) as TraceDocument, text: text.out };
}

beforeAll(async () => {
  await isolated.up();
  // One at a time, each in Jaeger before the next is sent: the store's order is the order of arrival.
  for (const traceId of traceIds) {
    await sendTrace(traceId);
    await isolated.fetchTrace(traceId);
  }
}, 180_000);
afterAll(async () => {
  await isolated.down();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe("Jaeger's store", () => {
  it('keeps only the newest OBSERVATORY_JAEGER_MAX_TRACES traces', async () => {
    const held = [];
    for (const traceId of traceIds) held.push(await inJaeger(traceId));
    expect(held).toEqual(traceIds.map((_, i) => i >= traceIds.length - MAX_TRACES));
  });

  it("keeps a resource without the repeated process attributes, the lake's copy keeps all of it", async () => {
    const trace = await isolated.fetchTrace(traceIds.at(-1)!);
    const tags = Object.fromEntries(
      Object.values(trace.processes).flatMap((p) => (p.tags ?? []).map((t) => [t.key, t.value])),
    );
    expect(tags).toEqual(expect.objectContaining({ 'service.version': '2.0.1', 'host.name': 'probe-host' }));
    for (const dropped of [
      'host.arch',
      'os.type',
      'process.pid',
      'process.executable.path',
      'process.command_args',
      'process.runtime.description',
      'telemetry.sdk.language',
    ])
      expect(tags).not.toHaveProperty([dropped]);
    const raw = await pollUntil(
      `a raw/traces/ object with trace ${traceIds.at(-1)}`,
      async () => {
        for (const key of await isolated.listKeys('raw/traces/')) {
          const text = await isolated.readObject(key);
          if (text.includes(traceIds.at(-1)!)) return text;
        }
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    );
    for (const key of ['process.pid', 'process.command_args', 'os.type', 'telemetry.sdk.language'])
      expect(raw).toContain(`"${key}"`);
  });
});

describe('observatory trace', () => {
  beforeAll(async () => {
    const config = { ...lakeConfig(), s3: isolated.stack.config.s3, cacheDir };
    let compacted = 0;
    await pollUntil(
      `the ${traceIds.length} traces' spans compacted into the isolated lake`,
      async () => {
        const result = await compactAll({ config, store: S3Store.fromSettings(isolated.stack.config.s3) });
        compacted += result.signals.traces.rowsOut;
        return compacted >= traceIds.length ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2000 },
    );
  }, 90_000);

  const wholeResource = {
    service: 'store-probe',
    attributes: expect.objectContaining({
      'service.name': 'store-probe',
      'host.name': 'probe-host',
      'os.type': 'linux',
      'process.pid': 31337,
      'process.executable.path': '/usr/local/bin/node',
      'telemetry.sdk.language': 'nodejs',
    }),
    source: 'lake',
  };

  it("shows the whole resource from the lake for a trace Jaeger still has (Jaeger's copy lacks it)", async () => {
    const { code, doc, text } = await traceJson(traceIds.at(-1)!);
    // Shown; these requests logged nothing.
    expect(code).toBe(EXIT_CODES.noLogsOrEvents);
    expect(doc.summary.notes.join('\n')).not.toMatch(/from the lake \(curated/);
    expect(doc.processes).toEqual([wholeResource]);
    expect(text).toContain('store-probe');
    expect(text).toContain('process.pid=31337');
    expect(text).toContain('the whole resource, from the lake');
  }, 60_000);

  it('shows a trace Jaeger has forgotten from the lake, with its whole resource', async () => {
    const { code, doc } = await traceJson(traceIds[0]!);
    expect(code).toBe(EXIT_CODES.noLogsOrEvents);
    expect(doc.summary.notes[0]).toMatch(/^from the lake \(curated\/spans\/\)/);
    expect(doc.processes).toEqual([wholeResource]);
  }, 60_000);
});
