/**
 * The demo platform, keyed by trace ID against the real stack: one request crosses every service, the trace has
 * exactly the expected shape, logs carry the same ID, failures land on the right spans, and bad input gets a 4xx
 * that names the problem — never a 5xx.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../../demo/platform.ts';
import { raster, scenesOf, days } from '../../imagery/scenes.ts';
import { fetchTrace, findObjectContaining, tag } from '../support/backends.ts';
import { find, outline, tree } from '../support/trace-tree.ts';
import { spawnNode } from '../support/spawn.ts';
import { demoConfig } from '../../services/config.ts';
import { warmUp } from '../../demo/warm-up.ts';

import { closedPortUrl } from '../support/closed-port.ts';

let platform: Platform;
beforeAll(async () => {
  // Spans go out every 500 ms so traces are complete quickly; the N+1 flaw is on (the default).
  platform = await startPlatform({
    freePorts: true,
    env: { OTEL_BSP_SCHEDULE_DELAY: '500', OTEL_BLRP_SCHEDULE_DELAY: '500' },
  });
});
afterAll(async () => {
  await platform?.stop();
});

const traceIdOf = (response: Response) => response.headers.get('traceresponse')!.split('-')[1]!;

describe('A search through the gateway', () => {
  it('is one trace: gateway → catalog (search, then one call per result) → S3, with routes and status codes', async () => {
    const response = await fetch(
      `${platform.urls.gateway}/api/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-02&limit=3`,
      { headers: { 'x-user-id': 'analyst-7' } },
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { count: number; scenes: { id: string }[] };
    const expected = [...scenesOf('2026-06-01', 0), ...scenesOf('2026-06-02', 1)].filter(
      (s) => s.bbox[0] < 5 && s.bbox[1] < 45,
    );
    expect(body.count).toBe(expected.length);
    expect(body.scenes.map((s) => s.id)).toEqual(expected.slice(0, 3).map((s) => s.id));

    const traceId = traceIdOf(response);
    const n = body.scenes.length;
    const trace = await fetchTrace(traceId, 4 + 3 * n + 2);
    const detail = [
      '  gateway client GET',
      '    catalog server GET /scenes/:id',
      '      catalog client S3/GetObject',
    ];
    expect(outline(tree(trace))).toEqual([
      'gateway server GET /api/scenes',
      '  gateway client GET',
      '    catalog server GET /scenes',
      '      catalog internal catalog.search',
      '        catalog client S3/GetObject',
      '        catalog client S3/GetObject',
      ...Array.from({ length: n }, () => detail).flat(),
    ]);
    const [root] = tree(trace);
    expect(tag(root!.span, 'http.route')).toBe('/api/scenes');
    expect(tag(root!.span, 'http.response.status_code')).toBe(200);
    const search = find(tree(trace), (node) => node.name === 'catalog.search')[0]!;
    expect(tag(search.span, 'catalog.results')).toBe(expected.length);
    // Baggage from the edge is on every downstream span.
    expect(
      find(tree(trace), (node) => node.service === 'catalog').every(
        (node) => tag(node.span, 'user.id') === 'analyst-7',
      ),
    ).toBe(true);

    // The catalog's log line and its business event carry the request's trace ID.
    const logs = await findObjectContaining('raw/logs/', traceId);
    expect(logs.text).toContain('scene search');
    const events = await findObjectContaining('raw/events/', traceId);
    expect(events.text).toContain('search_made');
  });
});

describe('A download through the gateway', () => {
  it('returns the stored bytes, in one trace down to the S3 read', async () => {
    const scene = scenesOf(days()[3]!, 3)[0]!;
    const response = await fetch(`${platform.urls.gateway}/api/scenes/${scene.id}/download`);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.from(raster(scene)))).toBe(true);

    const trace = await fetchTrace(traceIdOf(response), 4);
    expect(outline(tree(trace))).toEqual([
      'gateway server GET /api/scenes/:id/download',
      '  gateway client GET',
      '    downloads server GET /images/:id',
      '      downloads client S3/GetObject',
    ]);
    const s3 = find(tree(trace), (node) => node.name === 'S3/GetObject')[0]!;
    expect(tag(s3.span, 'aws.s3.bucket')).toBe(demoConfig().s3.bucket);
    expect(tag(s3.span, 'rpc.service')).toBe('S3');
    expect(tag(s3.span, 'rpc.method')).toBe('GetObject');
  });
});

describe('An injected downstream failure', () => {
  it('gives the client a 502 with the trace ID, and marks the failing spans with the error', async () => {
    const response = await fetch(
      `${platform.urls.gateway}/api/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-01`,
      {
        headers: { 'x-demo-fault': 'catalog:error' },
      },
    );
    expect(response.status).toBe(502);
    const body = (await response.json()) as { error: { code: string }; trace_id: string };
    const traceId = traceIdOf(response);
    expect(body.trace_id).toBe(traceId);
    expect(body.error.code).toBe('downstream_error');

    const trace = await fetchTrace(traceId, 3);
    const nodes = tree(trace);
    const catalog = find(nodes, (node) => node.service === 'catalog' && node.kind === 'server')[0]!;
    expect(tag(catalog.span, 'http.response.status_code')).toBe(500);
    expect(tag(catalog.span, 'error')).toBe(true);
    expect(JSON.stringify(catalog.span)).toContain('injected fault');
    const gateway = nodes[0]!;
    expect(tag(gateway.span, 'http.response.status_code')).toBe(502);
    expect(tag(gateway.span, 'error')).toBe(true);
  });

  it('maps a slow service to 504 with the trace ID', async () => {
    const slow = await fetch(
      `${platform.urls.gateway}/api/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-01`,
      {
        headers: { 'x-demo-fault': 'catalog:latency=6000' },
      },
    );
    expect(slow.status).toBe(504);
    const body = (await slow.json()) as { error: { code: string }; trace_id: string };
    expect(body).toMatchObject({ error: { code: 'downstream_timeout' }, trace_id: traceIdOf(slow) });
  });

  it('maps an unreachable service to 503 downstream_unavailable with the trace ID', async () => {
    // A gateway of its own whose users service is a port nothing listens on.
    const gateway = spawnNode(['--require', './instrumentation', 'services/gateway/main.ts'], {
      OTEL_SERVICE_NAME: 'gateway',
      OBSERVATORY_GATEWAY_PORT: '0',
      OBSERVATORY_USERS_URL: await closedPortUrl(),
    });
    try {
      const [, port] = await gateway.waitForLine(/^LISTENING (\d+)$/, 30_000);
      const response = await fetch(`http://127.0.0.1:${port}/api/users/00000000-0000-4000-8000-000000000000`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: { code: string; message: string }; trace_id: string };
      expect(body.error).toEqual({ code: 'downstream_unavailable', message: 'users is unavailable' });
      expect(body.trace_id).toBe(traceIdOf(response));
    } finally {
      await gateway.stop();
    }
  });
});

describe('Bad input at the gateway', () => {
  const cases: {
    name: string;
    path: string;
    init?: RequestInit;
    status: number;
    /** The field the error names; null when the problem is not one field. */
    field: string | null;
    code: string;
  }[] = [
    {
      name: 'a bbox with three numbers',
      path: '/api/scenes?bbox=1,2,3&from=2026-06-01&to=2026-06-02',
      status: 400,
      field: 'bbox',
      code: 'invalid_request',
    },
    {
      name: 'an empty area',
      path: '/api/scenes?bbox=5,40,5,45&from=2026-06-01&to=2026-06-02',
      status: 400,
      field: 'bbox',
      code: 'invalid_request',
    },
    {
      name: 'a latitude out of range',
      path: '/api/scenes?bbox=0,-95,5,45&from=2026-06-01&to=2026-06-02',
      status: 400,
      field: 'bbox',
      code: 'invalid_request',
    },
    {
      name: 'a missing date',
      path: '/api/scenes?bbox=0,40,5,45&to=2026-06-02',
      status: 400,
      field: 'from',
      code: 'invalid_request',
    },
    {
      name: 'a date that does not exist',
      path: '/api/scenes?bbox=0,40,5,45&from=2026-02-30&to=2026-06-02',
      status: 400,
      field: 'from',
      code: 'invalid_request',
    },
    {
      name: 'an inverted range',
      path: '/api/scenes?bbox=0,40,5,45&from=2026-06-09&to=2026-06-02',
      status: 400,
      field: 'to',
      code: 'invalid_request',
    },
    {
      name: 'max_cloud over 100',
      path: '/api/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-02&max_cloud=150',
      status: 400,
      field: 'max_cloud',
      code: 'invalid_request',
    },
    {
      name: 'a malformed scene ID',
      path: '/api/scenes/not-a-scene/download',
      status: 400,
      field: 'id',
      code: 'invalid_request',
    },
    {
      name: 'an unknown scene',
      path: '/api/scenes/S2A_20260601_T99/download',
      status: 404,
      field: null,
      code: 'not_found',
    },
    { name: 'a malformed user ID', path: '/api/users/42', status: 400, field: 'id', code: 'invalid_request' },
    {
      name: 'an unknown user',
      path: '/api/users/00000000-0000-4000-8000-000000000000',
      status: 404,
      field: null,
      code: 'not_found',
    },
    { name: 'an unknown route', path: '/api/satellites', status: 404, field: null, code: 'not_found' },
    {
      name: 'malformed JSON',
      path: '/api/users',
      init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": "Ada",' },
      status: 400,
      field: null,
      code: 'malformed_json',
    },
    {
      name: 'a missing field',
      path: '/api/users',
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"email": "ada@example.com"}',
      },
      status: 400,
      field: 'name',
      code: 'invalid_request',
    },
    {
      name: 'an invalid e-mail address',
      path: '/api/users',
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"name": "Ada", "email": "ada"}',
      },
      status: 400,
      field: 'email',
      code: 'invalid_request',
    },
    {
      name: 'an unknown plan',
      path: '/api/users',
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"name": "Ada", "email": "a@b.io", "plan": "gold"}',
      },
      status: 400,
      field: 'plan',
      code: 'invalid_request',
    },
    {
      name: 'an oversized body',
      path: '/api/users',
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x'.repeat(20_000) }),
      },
      status: 413,
      field: null,
      code: 'body_too_large',
    },
    {
      name: 'a job whose bbox is not an array of numbers',
      path: '/api/jobs',
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"bbox": "everywhere", "from": "2026-06-01", "to": "2026-06-02"}',
      },
      status: 400,
      field: 'bbox',
      code: 'invalid_request',
    },
  ];

  it.each(cases)(
    'answers $name with $status naming the problem',
    async ({ path, init, status, field, code }) => {
      const response = await fetch(`${platform.urls.gateway}${path}`, init);
      expect(response.status).toBe(status);
      const body = (await response.json()) as {
        error: { code: string; message: string; field?: string };
        trace_id: string;
      };
      expect(body.error.field ?? null).toBe(field);
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(0);
      expect(body.trace_id).toBe(traceIdOf(response));
    },
  );
});

describe("The platform's processes", () => {
  it("run every service and the ETL listener with the demo's memory settings, the listener with one worker sandbox", () => {
    const config = demoConfig({});
    const processes = platform.pids.map((pid) => ({
      cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'),
      environ: readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'),
    }));
    for (const { cmdline, environ } of processes) {
      expect(cmdline).toContain(`--max-semi-space-size=${config.runtime.semiSpaceMb}`);
      expect(environ).toContain(`MALLOC_ARENA_MAX=${config.runtime.mallocArenas}`);
    }
    const listener = processes.find((p) => p.cmdline.some((arg) => arg.endsWith('/etl-listener.mjs')))!;
    expect(listener.environ).toContain(`OBSERVATORY_ETL_CONCURRENCY=${config.runtime.workerSandboxes}`);
    expect(listener.environ).toContain(`OBSERVATORY_ETL_IDLE_MS=${config.runtime.workerIdleMs}`);
  });

  it('run their code and the preload built to JavaScript, one build for all, not the TypeScript sources', () => {
    const processes = platform.pids.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
    const entries = processes.map((cmdline) => cmdline.filter(Boolean).at(-1)!);
    expect(entries.map((entry) => basename(entry)).sort()).toEqual([
      'catalog.mjs',
      'downloads.mjs',
      'etl-listener.mjs',
      'gateway.mjs',
      'users.mjs',
    ]);
    expect(new Set(entries.map((entry) => dirname(entry))).size).toBe(1);
    const build = dirname(entries[0]!);
    expect(build).toContain(join('.observatory', 'js-build'));
    for (const cmdline of processes)
      expect(cmdline[cmdline.indexOf('--require') + 1]).toBe(join(build, 'preload.mjs'));
  });
});

describe('The warm-up before the demo load', () => {
  it('answers every route once, runs a job to its end, then sends a burst of the mix that is answered', async () => {
    // The job's sandbox cold-starts: seconds on a busy 2-core machine, more when other stacks share it.
    const report = await warmUp({
      gateway: platform.urls.gateway,
      rate: 5,
      burstSeconds: 2,
      timeoutMs: 180_000,
    });
    expect(report.first.map((f) => `${f.route} ${f.status}`)).toEqual([
      'GET /api/scenes 200',
      'GET /api/scenes/:id/download 200',
      'GET /api/scenes/:id/download (missing) 404',
      'POST /api/users 201',
      'POST /api/jobs 202',
    ]);
    const fleet = (await (await fetch(`${platform.urls.etl}/fleet`)).json()) as Record<
      string,
      { warm: number; running: number }
    >;
    // The job's sandbox has finished it and stays warm for the load that follows.
    expect(
      Object.values(fleet).some((f) => f.warm + f.running >= 1),
      JSON.stringify(fleet),
    ).toBe(true);
    // Every request of the burst is answered (a starved machine may make some a 504: timings are the bench's).
    expect(report.burst.sent).toBe(10);
    expect(report.burst.byStatus['0'] ?? 0).toBe(0);
  }, 240_000);
});
