/**
 * gateway: the only public entry. Validates input, then calls catalog, downloads, users and the ETL listener.
 *   GET  /api/scenes?bbox=w,s,e,n&from=YYYY-MM-DD&to=YYYY-MM-DD&max_cloud=&limit=   search
 *   GET  /api/scenes/:id/download                                                  image bytes
 *   POST /api/users {name, email, plan?}          GET /api/users/:id
 *   POST /api/jobs {bbox: [w,s,e,n], from, to}    GET /api/jobs/:id                analytics jobs (ETL fleet)
 *   POST /test                                    W3C Trace Context harness (OBSERVATORY_W3C_TEST_ENDPOINT=true),
 *                                                 which calls back loopback addresses only
 * An `x-user-id` header becomes W3C baggage `user.id`, so every downstream span carries it.
 */
import { context, propagation } from '@opentelemetry/api';
import type { Request } from 'express';
import { demoConfig } from '../config.ts';
import { finishApp, listen, route } from '../../common/http/app.ts';
import { createService } from '../lib/service.ts';
import { call, callerGone, callJson, type CallOptions } from '../lib/client.ts';
import { invalid } from '../../common/http/errors.ts';
import { bbox, type Scene, sceneDay } from '../../imagery/scenes.ts';
import { dateRange, numberIn, objectBody, text, uuid } from '../../common/http/validate.ts';

const config = demoConfig();
const app = createService('gateway', config);
const options = (req: Request, extra: Partial<CallOptions> = {}): CallOptions => ({
  // Only the fault header is forwarded from the incoming request, and only where the demo enabled it.
  incoming: config.faultHeader ? req.headers : undefined,
  timeoutMs: config.downstreamTimeoutMs,
  // A read its caller gave up on stops; a write (sign-up, job) completes, so that it is not left half-done.
  signal: req.method === 'GET' && req.res ? callerGone(req.res) : undefined,
  ...extra,
});

/** Runs `work` with the caller's user ID in baggage, so downstream services and spans see it. */
function asUser<T>(req: Request, work: () => Promise<T>): Promise<T> {
  const userId = req.header('x-user-id');
  if (!userId) return work();
  const baggage = (propagation.getBaggage(context.active()) ?? propagation.createBaggage()).setEntry(
    'user.id',
    {
      value: userId.slice(0, 64),
    },
  );
  return context.with(propagation.setBaggage(context.active(), baggage), work);
}
const userOf = (req: Request) => encodeURIComponent(req.header('x-user-id')?.slice(0, 64) ?? 'anonymous');

app.get(
  '/api/scenes',
  route(async (req, res) => {
    const area = bbox(req.query.bbox);
    const range = dateRange(req.query.from, req.query.to, 366);
    const maxCloud = numberIn(req.query.max_cloud, 'max_cloud', 0, 100, 100);
    const limit = numberIn(req.query.limit, 'limit', 1, 100, 20);
    const query = `bbox=${area.join(',')}&from=${range.from}&to=${range.to}&max_cloud=${maxCloud}&user_id=${userOf(req)}`;
    const result = await asUser(req, async () => {
      if (!config.nPlusOne) {
        const full = await callJson<{ count: number; scenes: Scene[] }>(
          'catalog',
          `${config.urls.catalog}/scenes?${query}&detail=full`,
          options(req),
        );
        return { count: full.count, scenes: full.scenes.slice(0, limit) };
      }
      // The deliberate flaw (OBSERVATORY_DEMO_N_PLUS_ONE): IDs first, then one sequential call per scene.
      const ids = await callJson<{ count: number; scenes: { id: string }[] }>(
        'catalog',
        `${config.urls.catalog}/scenes?${query}&detail=ids`,
        options(req),
      );
      const scenes: Scene[] = [];
      for (const { id } of ids.scenes.slice(0, limit)) {
        scenes.push(await callJson<Scene>('catalog', `${config.urls.catalog}/scenes/${id}`, options(req)));
      }
      return { count: ids.count, scenes };
    });
    res.json(result);
  }),
);

app.get(
  '/api/scenes/:id/download',
  route(async (req, res) => {
    const id = String(req.params.id);
    if (!sceneDay(id)) throw invalid('id', 'expected a scene ID like S2A_20260601_T07');
    const response = await asUser(req, () =>
      call('downloads', `${config.urls.downloads}/images/${id}?user_id=${userOf(req)}`, options(req)),
    );
    res.type('application/octet-stream').send(Buffer.from(await response.arrayBuffer()));
  }),
);

app.post(
  '/api/users',
  route(async (req, res) => {
    const body = objectBody(req.body);
    const user = {
      name: text(body.name, 'name', 100),
      email: text(body.email, 'email', 254),
      plan: body.plan,
    };
    const created = await asUser(req, () =>
      callJson('users', `${config.urls.users}/users`, options(req, { method: 'POST', body: user })),
    );
    res.status(201).json(created);
  }),
);

app.get(
  '/api/users/:id',
  route(async (req, res) => {
    const id = uuid(req.params.id, 'id');
    res.json(await asUser(req, () => callJson('users', `${config.urls.users}/users/${id}`, options(req))));
  }),
);

app.post(
  '/api/jobs',
  route(async (req, res) => {
    const body = objectBody(req.body);
    const spec = { bbox: bbox(body.bbox), ...pick(dateRange(body.from, body.to, 366), 'from', 'to') };
    // The job continues this request's trace: the listener receives the context in the payload too, because the
    // hops after it (queues, worker invocations) may drop transport headers.
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    const job = await asUser(req, () =>
      callJson(
        'etl',
        `${config.urls.etl}/jobs`,
        options(req, { method: 'POST', body: { ...spec, trace: carrier } }),
      ),
    );
    res.status(202).json(job);
  }),
);

app.get(
  '/api/jobs/:id',
  route(async (req, res) => {
    const id = text(req.params.id, 'id', 64);
    res.json(await callJson('etl', `${config.urls.etl}/jobs/${encodeURIComponent(id)}`, options(req)));
  }),
);

if (config.w3cTestEndpoint) {
  // The W3C Trace Context test harness: POST `arguments` to each `url` in order, propagating context. The harness runs
  // on the same machine; any other target would make the gateway a proxy for whoever can reach it.
  app.post(
    '/test',
    route(async (req, res) => {
      if (!Array.isArray(req.body)) throw invalid('body', 'expected a JSON array of {url, arguments}');
      const steps = (req.body as { url?: unknown; arguments?: unknown }[]).map((step) => ({
        url: loopbackUrl(step?.url),
        arguments: step?.arguments,
      }));
      for (const step of steps) {
        await fetch(step.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(step.arguments ?? []),
          redirect: 'manual',
          signal: AbortSignal.timeout(config.downstreamTimeoutMs),
        });
      }
      res.json({ ok: true });
    }),
  );
}

/** An http(s) URL on this machine: 127.0.0.0/8, ::1 or localhost; anything else is a 400 naming the url. */
function loopbackUrl(value: unknown): URL {
  if (typeof value !== 'string') throw invalid('url', 'each step needs a url');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('url', `${JSON.stringify(value.slice(0, 200))} is not a URL`);
  }
  const host = url.hostname;
  const loopback = host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (!['http:', 'https:'].includes(url.protocol) || !loopback) {
    throw invalid(
      'url',
      `only loopback targets (127.0.0.0/8, ::1, localhost) are allowed, not ${url.protocol}//${url.host}`,
    );
  }
  return url;
}

function pick<T extends object, K extends keyof T>(value: T, ...keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, value[key]])) as Pick<T, K>;
}

finishApp(app);
await listen(app, config.ports.gateway, config.listenHost);
