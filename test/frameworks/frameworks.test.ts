/**
 * The frameworks teams run, as a team runs them: both packed packages and each framework installed from the registry
 * in folders outside this repository, a small real app per framework (test/frameworks/fixtures/), started under
 * `--require @observatory/instrumentation` (CommonJS) and `--import @observatory/instrumentation/register` (ES
 * module) on Node 24 and Node 22. Read back from the real stack by the traceresponse header's trace ID: the server
 * span named `METHOD route` with `http.route`, the 500's error status and exception event, the fetch a handler makes
 * as a child, the handler's log line with the trace ID, and span metrics per route.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { buildPackages } from '../../packages/build.ts';
import { fetchTrace, listKeys, promQuery, readObject, tag, type JaegerSpan } from '../support/backends.ts';
import { pollUntil } from '../support/poll.ts';
import { spawnNode, type RunningApp } from '../support/spawn.ts';
import { installNode, npmInstall, NODE_22, repoVersion, tempFolder, writeTeamApp } from '../support/team.ts';

const FIXTURES = join(REPO_ROOT, 'test', 'frameworks', 'fixtures');
const TRACERESPONSE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

/** Two team folders: the current major of every framework, and the previous major of Fastify and Koa. */
const FOLDERS = {
  current: [
    `express@${repoVersion('express')}`,
    'fastify@5.12.8',
    'koa@3.3.0',
    '@koa/router@15.7.0',
    '@hapi/hapi@21.4.13',
    '@nestjs/core@11.2.12',
    '@nestjs/common@11.2.12',
    '@nestjs/platform-express@11.2.12',
    '@nestjs/platform-fastify@11.2.8',
    'reflect-metadata@0.2.2',
    'rxjs@7.8.2',
  ],
  previous: ['fastify@4.29.1', 'koa@2.16.4', '@koa/router@13.1.1'],
} as const;
type Folder = keyof typeof FOLDERS;

interface Framework {
  label: string;
  folder: Folder;
  app: 'express' | 'fastify' | 'koa' | 'hapi' | 'nest';
  env?: Record<string, string>;
  /** The route templates as the framework writes them. */
  routes: { scene: string; tile: string };
}

const COLON = { scene: '/scenes/:id', tile: '/scenes/:id/tiles/:tile' };
export const FRAMEWORKS: Framework[] = [
  { label: 'Express 5', folder: 'current', app: 'express', routes: COLON },
  { label: 'Fastify 5', folder: 'current', app: 'fastify', routes: COLON },
  { label: 'Fastify 4', folder: 'previous', app: 'fastify', routes: COLON },
  { label: 'Koa 3', folder: 'current', app: 'koa', routes: COLON },
  { label: 'Koa 2', folder: 'previous', app: 'koa', routes: COLON },
  {
    label: 'Hapi 21',
    folder: 'current',
    app: 'hapi',
    routes: { scene: '/scenes/{id}', tile: '/scenes/{id}/tiles/{tile}' },
  },
  {
    label: 'NestJS 11 on Express',
    folder: 'current',
    app: 'nest',
    env: { NEST_PLATFORM: 'express' },
    routes: COLON,
  },
  {
    label: 'NestJS 11 on Fastify',
    folder: 'current',
    app: 'nest',
    env: { NEST_PLATFORM: 'fastify' },
    routes: COLON,
  },
];

const MODULES = {
  CommonJS: (app: string) => ['--require', '@observatory/instrumentation', `${app}.cjs`],
  'ES module': (app: string) => ['--import', '@observatory/instrumentation/register', `${app}.mjs`],
} as const;

const folders = { current: tempFolder('frameworks'), previous: tempFolder('frameworks-previous') };
const nodes: Record<string, string> = { '24': process.execPath };
const running: RunningApp[] = [];
let upstream: Server;
let upstreamUrl: string;

beforeAll(async () => {
  const tarballs = buildPackages();
  for (const [folder, specs] of Object.entries(FOLDERS) as [Folder, readonly string[]][]) {
    const dir = folders[folder].dir;
    writeTeamApp(FIXTURES, dir, { name: `team-${folder}`, version: '1.0.0', private: true });
    npmInstall(dir, [...specs, tarballs['@observatory/instrumentation']!]);
  }
  nodes['22'] = installNode(NODE_22, join(folders.current.dir, '.node22'));
  upstream = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/health`;
}, 900_000);

afterAll(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()));
  upstream?.close();
  folders.current.remove();
  folders.previous.remove();
});

interface SpanWithLogs extends JaegerSpan {
  logs?: { fields: { key: string; value: unknown }[] }[];
}

/** The trace ID a response's traceresponse header names; fails the test when the header is missing or malformed. */
function traceIdOf(response: Response, what: string): string {
  const header = response.headers.get('traceresponse') ?? '';
  const [, traceId] = header.match(TRACERESPONSE) ?? [];
  expect(traceId, `a traceresponse header on ${what} (got ${JSON.stringify(header)})`).toBeDefined();
  return traceId!;
}

/** The server span of a trace: the one whose span.kind is server. */
async function serverSpan(traceId: string, until?: (spans: SpanWithLogs[]) => boolean) {
  const trace = await fetchTrace(traceId, (t) => {
    const spans = t.spans as SpanWithLogs[];
    return spans.some((s) => tag(s, 'span.kind') === 'server') && (until?.(spans) ?? true);
  });
  const spans = trace.spans as SpanWithLogs[];
  return { trace, spans, server: spans.find((s) => tag(s, 'span.kind') === 'server')! };
}

/** Whether `span` sits under `ancestor` in the trace. */
function isUnder(span: JaegerSpan, ancestor: JaegerSpan, spans: JaegerSpan[]): boolean {
  const byId = new Map(spans.map((s) => [s.spanID, s]));
  for (let at: JaegerSpan | undefined = span; at;) {
    const parent: string | undefined = at.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
    if (parent === ancestor.spanID) return true;
    at = parent ? byId.get(parent) : undefined;
  }
  return false;
}

const hasException = (span: SpanWithLogs) =>
  (span.logs ?? []).some((log) => log.fields.some((f) => f.key === 'event' && f.value === 'exception'));

/** One scan of raw/logs/ shared by every test: each waits for the log record holding its marker. */
const logScan = { seen: new Set<string>(), found: new Map<string, string>() };
async function logTraceId(marker: string): Promise<string> {
  return pollUntil(
    `the log line of scene ${marker} in raw/logs/`,
    async () => {
      for (const key of await listKeys('raw/logs/')) {
        if (logScan.seen.has(key)) continue;
        logScan.seen.add(key);
        const text = await readObject(key);
        for (const [, scene, traceId] of text.matchAll(
          /"scene-([0-9a-f-]{36})"[^]*?"traceId":"([0-9a-f]{32})"/g,
        )) {
          logScan.found.set(scene!, traceId!);
        }
      }
      return logScan.found.get(marker.replace(/^scene-/, ''));
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}

async function spanMetricsFor(service: string, route: string): Promise<number> {
  return pollUntil(
    `span metrics of ${service} for ${route} in Prometheus`,
    async () => {
      const samples = await promQuery(
        `sum(traces_span_metrics_calls_total{service_name="${service}",span_kind="SPAN_KIND_SERVER",http_route="${route}"})`,
      );
      const value = Number(samples[0]?.value[1] ?? 0);
      return value > 0 ? value : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 2_000 },
  );
}

/** What one app answered: its service name, the marker in its log line and the trace ID of each request. */
interface Exercised {
  service: string;
  marker: string;
  ids: { scene: string; tile: string; missing: string; boom: string };
}

/**
 * Starts one app, sends its four requests and stops it with SIGTERM (the preload flushes every signal on the way
 * out). Apps start one at a time: starting is the CPU-bound part, and two cores are shared with the stack.
 */
async function exercise(
  framework: Framework,
  module: keyof typeof MODULES,
  line: string,
): Promise<Exercised> {
  const service = `fw-${framework.app}-${randomUUID().slice(0, 8)}`;
  const app = spawnNode(
    MODULES[module](framework.app),
    { OTEL_SERVICE_NAME: service, UPSTREAM_URL: upstreamUrl, ...framework.env },
    { cwd: folders[framework.folder].dir, node: nodes[line] },
  );
  running.push(app);
  try {
    const [, port] = await app.waitForLine(/^LISTENING (\d+)$/, 120_000);
    const base = `http://127.0.0.1:${port}`;
    const marker = `scene-${randomUUID()}`;
    const scene = await fetch(`${base}/scenes/${marker}`);
    expect(scene.status).toBe(200);
    const tile = await fetch(`${base}/scenes/s-1/tiles/t-2`);
    expect(tile.status).toBe(200);
    const missing = await fetch(`${base}/no/such/page`);
    expect(missing.status).toBe(404);
    const boom = await fetch(`${base}/boom/b-1`);
    expect(boom.status).toBe(500);
    const ids = {
      scene: traceIdOf(scene, 'the scene route'),
      tile: traceIdOf(tile, 'the tile route'),
      missing: traceIdOf(missing, 'the 404'),
      boom: traceIdOf(boom, 'the 500'),
    };
    app.child.kill('SIGTERM');
    await pollUntil(
      `${framework.label} to exit after SIGTERM`,
      async () => app.child.exitCode ?? app.child.signalCode ?? undefined,
      {
        timeoutMs: 30_000,
      },
    );
    return { service, marker, ids };
  } finally {
    await app.stop();
  }
}

/** Everything the team would look for, read back from Jaeger, S3 and Prometheus. */
async function expectInstrumented(
  framework: Framework,
  { service, marker, ids }: Exercised,
  metrics: boolean,
) {
  const sceneTrace = await serverSpan(ids.scene, (spans) =>
    spans.some((s) => tag(s, 'span.kind') === 'client'),
  );
  expect(sceneTrace.server.operationName).toBe(`GET ${framework.routes.scene}`);
  expect(tag(sceneTrace.server, 'http.route')).toBe(framework.routes.scene);
  expect(sceneTrace.trace.processes[sceneTrace.server.processID]?.serviceName).toBe(service);
  const client = sceneTrace.spans.find((s) => tag(s, 'span.kind') === 'client')!;
  expect(String(tag(client, 'url.full'))).toBe(upstreamUrl);
  expect(isUnder(client, sceneTrace.server, sceneTrace.spans), 'the fetch span under the server span').toBe(
    true,
  );

  const tileTrace = await serverSpan(ids.tile);
  expect(tileTrace.server.operationName).toBe(`GET ${framework.routes.tile}`);
  expect(tag(tileTrace.server, 'http.route')).toBe(framework.routes.tile);

  const missingTrace = await serverSpan(ids.missing);
  expect(tag(missingTrace.server, 'http.response.status_code')).toBe(404);

  expect(await logTraceId(marker)).toBe(ids.scene);

  const boomTrace = await serverSpan(ids.boom, (spans) => spans.some(hasException));
  expect(tag(boomTrace.server, 'http.response.status_code')).toBe(500);
  expect(tag(boomTrace.server, 'otel.status_code')).toBe('ERROR');
  expect(boomTrace.server.operationName).toBe(`GET /boom/${framework.app === 'hapi' ? '{id}' : ':id'}`);
  const failed = boomTrace.spans.find(hasException)!;
  expect(
    failed.spanID === boomTrace.server.spanID || isUnder(failed, boomTrace.server, boomTrace.spans),
  ).toBe(true);

  // Span metrics per route: they come from the same server spans on every line, so one line and module suffice.
  if (metrics) expect(await spanMetricsFor(service, framework.routes.scene)).toBeGreaterThan(0);
}

describe.each(['24', '22'])('Framework apps from the registry on Node %s', (line) => {
  describe.each(Object.keys(MODULES) as (keyof typeof MODULES)[])('as %s', (module) => {
    const exercised = new Map<string, Exercised | Error>();
    beforeAll(async () => {
      for (const framework of FRAMEWORKS) {
        exercised.set(
          framework.label,
          await exercise(framework, module, line).catch((error: Error) => error),
        );
      }
    }, 1_200_000);

    it.concurrent.each(FRAMEWORKS.map((f) => [f.label, f] as const))(
      '%s gets route-named server spans, traceresponse, errors, child fetches and logs by trace ID',
      async (label, framework) => {
        const run = exercised.get(label);
        if (run instanceof Error || run === undefined) throw run ?? new Error(`${label} was not run`);
        await expectInstrumented(framework, run, line === '24' && module === 'CommonJS');
      },
      180_000,
    );
  });
});
