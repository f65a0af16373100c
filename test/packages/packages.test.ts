/**
 * The packages as a team uses them: both tarballs packed, a service in a temporary folder outside this repository
 * with its own package.json and node_modules (express from the registry), started with the preload from
 * node_modules, on Node 24 and on Node 22. Its request is found in Jaeger (server span with http.route), its log
 * line in S3 raw/logs/ and its own event in S3 raw/events/, all by the trace ID of the traceresponse header.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildPackages } from '../../packages/build.ts';
import { fetchTrace, findObjectContaining, tag } from '../support/backends.ts';
import { spawnNode, type RunningApp } from '../support/spawn.ts';
import { installNode, NODE_22, npmInstall, repoVersion, tempFolder, writeTeamApp } from '../support/team.ts';
import { REPO_ROOT } from '../../common/paths.ts';

const FIXTURE = join(REPO_ROOT, 'test', 'packages', 'fixtures', 'team-app');
const TRACERESPONSE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

const team = tempFolder('team');
const nodes: Record<string, string> = { '24': process.execPath };
const running: RunningApp[] = [];

beforeAll(() => {
  const tarballs = buildPackages();
  writeTeamApp(FIXTURE, team.dir, { name: 'team-orders', version: '3.4.5', private: true });
  npmInstall(team.dir, [
    `express@${repoVersion('express')}`,
    tarballs['@observatory/instrumentation']!,
    tarballs['@observatory/tracker']!,
  ]);
  nodes['22'] = installNode(NODE_22, join(team.dir, '.node22'));
}, 600_000);
afterEach(async () => {
  for (const app of running.splice(0)) await app.stop();
});
afterAll(() => team.remove());

interface OtlpLogs {
  resourceLogs: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeLogs: { logRecords: { traceId: string; eventName?: string }[] }[];
  }[];
}

function recordsIn(text: string) {
  return (JSON.parse(text) as OtlpLogs).resourceLogs.flatMap((r) =>
    r.scopeLogs.flatMap((s) => s.logRecords.map((record) => ({ record, resource: r.resource }))),
  );
}

async function expectOneRequestEverywhere(line: string, args: string[], env: Record<string, string> = {}) {
  const node = nodes[line]!;
  const service = `team-orders-${randomUUID().slice(0, 8)}`;
  const app = spawnNode(args, { OTEL_SERVICE_NAME: service, ...env }, { cwd: team.dir, node });
  running.push(app);
  const [, port] = await app.waitForLine(/^LISTENING (\d+)$/, 60_000);
  const orderId = `order-${randomUUID()}`;
  const response = await fetch(`http://127.0.0.1:${port}/orders/${orderId}`);
  expect(response.status).toBe(200);
  const [, traceId, spanId] = (response.headers.get('traceresponse') ?? '').match(TRACERESPONSE) ?? [];
  expect(traceId, 'a traceresponse header').toBeDefined();

  const trace = await fetchTrace(traceId!);
  const server = trace.spans.find((s) => s.spanID === spanId)!;
  expect(tag(server, 'http.route')).toBe('/orders/:id');
  const resource = trace.processes[server.processID]!;
  expect(resource.serviceName).toBe(service);
  // The version comes from the team's own package.json, found from node_modules.
  expect(resource.tags.find((t) => t.key === 'service.version')?.value).toBe('3.4.5');

  const logs = recordsIn((await findObjectContaining('raw/logs/', orderId)).text);
  const log = logs.find(({ record }) => JSON.stringify(record).includes(orderId));
  expect(log?.record.traceId).toBe(traceId);
  // The process's attributes reach the lake, which keeps the whole resource (Jaeger's copy leaves them out).
  const runtime = log!.resource.attributes.find((a) => a.key === 'process.runtime.version')?.value
    .stringValue;
  expect(String(runtime)).toMatch(new RegExp(`^${line}\\.`));

  const events = recordsIn((await findObjectContaining('raw/events/', orderId)).text);
  const event = events.find(({ record }) => JSON.stringify(record).includes(orderId))!;
  expect(event.record.eventName).toBe('order_placed');
  expect(event.record.traceId).toBe(traceId);
  expect(JSON.stringify(event.record)).toContain('"event.schema_version"');
}

describe.each(['24', '22'])('The packed packages in a team repository on Node %s', (line) => {
  it('instrument a CommonJS service under `node --require @observatory/instrumentation`', async () => {
    await expectOneRequestEverywhere(line, ['--require', '@observatory/instrumentation', 'app.cjs']);
  });

  it('instrument an ES-module service under `--import @observatory/instrumentation/register`', async () => {
    await expectOneRequestEverywhere(line, ['--import', '@observatory/instrumentation/register', 'app.mjs']);
  });

  it('work the same through NODE_OPTIONS', async () => {
    await expectOneRequestEverywhere(line, ['app.cjs'], {
      NODE_OPTIONS: '--require @observatory/instrumentation',
    });
  });
});
