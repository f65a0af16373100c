/**
 * The gateway role (collector-config/base.yaml and gateway.yaml) as a client on another host meets it: TLS only, a
 * bearer token required, 401 and nothing forwarded without it. The real files run in an isolated Collector with a
 * throw-away self-signed certificate, its trace exporter pointed at a small OTLP receiver of the test's own. That it
 * processes data as the local role does is roles.unit.test.ts (both roles take their processing from base.yaml).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectorBinaryPath } from '../../stack/build.ts';
import { collectorConfigArgs, collectorRoleFiles, ROLE_BUILDS } from '../../stack/collector-roles.ts';
import { stackConfig } from '../../stack/config.ts';
import { pollUntil } from '../support/poll.ts';

const run = promisify(execFile);
const BASE = 24600;
const ports = {
  grpc: BASE,
  http: BASE + 1,
  health: BASE + 2,
  metrics: BASE + 3,
  prometheus: BASE + 4,
  sink: BASE + 5,
};
const token = randomBytes(24).toString('hex');
/** The gateway role's files as `--config` flags: base.yaml, then gateway.yaml. */
const gatewayConfig = collectorConfigArgs(collectorRoleFiles('gateway'));
const dir = mkdtempSync(join(tmpdir(), 'observatory-gateway-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');

/** Every OTLP/HTTP request body the gateway forwards to the trace store, decompressed. */
const forwarded: Buffer[] = [];
let sink: Server;
let collector: ChildProcess;
let collectorLog = '';

function gatewayEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    OBSERVATORY_GATEWAY_TOKEN: token,
    OBSERVATORY_GATEWAY_TLS_CERT_FILE: cert,
    OBSERVATORY_GATEWAY_TLS_KEY_FILE: key,
    OBSERVATORY_GATEWAY_LISTEN_HOST: '127.0.0.1',
    OBSERVATORY_COLLECTOR_OTLP_GRPC_PORT: String(ports.grpc),
    OBSERVATORY_COLLECTOR_OTLP_HTTP_PORT: String(ports.http),
    OBSERVATORY_COLLECTOR_HEALTH_PORT: String(ports.health),
    OBSERVATORY_COLLECTOR_METRICS_PORT: String(ports.metrics),
    OBSERVATORY_COLLECTOR_PROMETHEUS_PORT: String(ports.prometheus),
    OBSERVATORY_COLLECTOR_STORAGE_DIR: join(dir, 'queue'),
    OBSERVATORY_GATEWAY_TRACES_ENDPOINT: `http://127.0.0.1:${ports.sink}`,
    OBSERVATORY_S3_ENDPOINT: 'http://127.0.0.1:9',
    ...extra,
  };
}

/** One span in OTLP/JSON; its trace ID is what the test looks for downstream. */
function spanRequest(): { traceId: string; body: string } {
  const traceId = randomBytes(16).toString('hex');
  const now = Date.now() * 1_000_000;
  const body = JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'gateway-test' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId,
                spanId: randomBytes(8).toString('hex'),
                name: 'gateway.probe',
                kind: 1,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 1_000_000),
              },
            ],
          },
        ],
      },
    ],
  });
  return { traceId, body };
}

/** POSTs over HTTPS, trusting only the test's own certificate. */
function postTraces(body: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: ports.http,
        path: '/v1/traces',
        method: 'POST',
        ca: readFileSync(cert),
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const arrived = (traceId: string) => forwarded.some((b) => b.includes(Buffer.from(traceId, 'hex')));

describe('The gateway Collector config', () => {
  beforeAll(async () => {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    sink = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        forwarded.push(req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => sink.listen(ports.sink, '127.0.0.1', resolve));
    collector = spawn(collectorBinaryPath(stackConfig(), ROLE_BUILDS.gateway), gatewayConfig, {
      env: gatewayEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    collector.stdout!.on('data', (c: Buffer) => (collectorLog += c.toString()));
    collector.stderr!.on('data', (c: Buffer) => (collectorLog += c.toString()));
    await pollUntil('the gateway Collector to be healthy', async () => {
      if (collector.exitCode !== null)
        throw new Error(`exited ${collector.exitCode}: ${collectorLog.slice(-2000)}`);
      const response = await fetch(`http://127.0.0.1:${ports.health}/`);
      return response.ok ? true : undefined;
    });
  });

  afterAll(async () => {
    if (collector && collector.exitCode === null) {
      const exited = new Promise((resolve) => collector.once('exit', resolve));
      collector.kill('SIGTERM');
      await exited;
    }
    await new Promise((resolve) => sink?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 401 to a request without a token or with a wrong one, and forwards neither', async () => {
    const anonymous = spanRequest();
    const wrong = spanRequest();
    expect(await postTraces(anonymous.body)).toBe(401);
    expect(await postTraces(wrong.body, { authorization: `Bearer ${token}x` })).toBe(401);

    // A request with the token, sent after them, shows when the exporter has flushed: once it arrives, anything
    // accepted before it would have arrived too.
    const marker = spanRequest();
    expect(await postTraces(marker.body, { authorization: `Bearer ${token}` })).toBe(200);
    await pollUntil('the authorised span at the trace store', async () =>
      arrived(marker.traceId) ? true : undefined,
    );
    expect(arrived(anonymous.traceId)).toBe(false);
    expect(arrived(wrong.traceId)).toBe(false);
  });

  it('accepts a request with the token over TLS and forwards it to the trace store', async () => {
    const { traceId, body } = spanRequest();
    expect(await postTraces(body, { authorization: `Bearer ${token}` })).toBe(200);
    await pollUntil(`trace ${traceId} at the trace store`, async () => (arrived(traceId) ? true : undefined));
  });

  it('does not speak plain HTTP on the OTLP port', async () => {
    const { body } = spanRequest();
    const outcome = await fetch(`http://127.0.0.1:${ports.http}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    }).then(
      (response) => response.status,
      () => 'refused',
    );
    expect(outcome === 'refused' || (typeof outcome === 'number' && outcome >= 400)).toBe(true);
  });

  it('refuses to start without a token', async () => {
    const failure = await run(
      collectorBinaryPath(stackConfig(), ROLE_BUILDS.gateway),
      ['validate', ...gatewayConfig],
      {
        env: gatewayEnv({ OBSERVATORY_GATEWAY_TOKEN: '' }),
      },
    ).then(
      () => 'validated',
      (error: { stderr?: string }) => error.stderr ?? '',
    );
    expect(failure).toContain('no bearer token provided');
  });
});
