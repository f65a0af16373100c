/**
 * catalog: searches the scene metadata kept in the S3 store (one object per capture day) and records `search_made`.
 *   GET /scenes?bbox=w,s,e,n&from=YYYY-MM-DD&to=YYYY-MM-DD&max_cloud=&user_id=&detail=ids|full
 *   GET /scenes/:id
 */
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { logger } from '../../instrumentation/api.ts';
import { demoConfig } from '../config.ts';
import { finishApp, listen, route } from '../../common/http/app.ts';
import { createService } from '../lib/service.ts';
import { invalid, notFound } from '../../common/http/errors.ts';
import { track } from '../../tracker/track.ts';
import { bbox, dayKey, intersects, type Scene, sceneDay, seed } from '../../imagery/scenes.ts';
import { S3Store } from '../../common/s3-store.ts';
import { dateRange, numberIn, oneOf } from '../../common/http/validate.ts';
import { callerGone, callerGoneError } from '../lib/client.ts';

const config = demoConfig();
const store = S3Store.fromSettings(config.s3);
const tracer = trace.getTracer('catalog');
const app = createService('catalog', config);

app.get(
  '/scenes',
  route(async (req, res) => {
    const area = bbox(req.query.bbox);
    const range = dateRange(req.query.from, req.query.to, 366);
    const maxCloud = numberIn(req.query.max_cloud, 'max_cloud', 0, 100, 100);
    const detail = oneOf(req.query.detail, 'detail', ['ids', 'full'] as const, 'full');
    const userId = typeof req.query.user_id === 'string' ? req.query.user_id : 'anonymous';
    // Work for nobody is not done: a caller that gave up (the gateway's 5 s timeout) aborts the reads still to make.
    // Behind a stall, the catalog otherwise served the calls of callers long gone and never caught up.
    const signal = callerGone(res);
    // The search itself is business meaning the HTTP spans cannot show: how many days it read, what it found.
    const found = await tracer.startActiveSpan('catalog.search', async (span) => {
      try {
        span.setAttributes({ 'catalog.days': range.days.length, 'catalog.max_cloud': maxCloud });
        const days = await forCaller(
          signal,
          Promise.all(range.days.map((day) => store.getJson<Scene[]>(dayKey(day), { signal }))),
        );
        const matches = days
          .flatMap((scenes) => scenes ?? [])
          .filter((scene) => scene.cloud_cover <= maxCloud && intersects(scene.bbox, area));
        span.setAttribute('catalog.results', matches.length);
        return matches;
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
    logger.info({ results: found.length, days: range.days.length, max_cloud: maxCloud }, 'scene search');
    track('search_made', {
      query: `bbox=${area.join(',')}&from=${range.from}&to=${range.to}&max_cloud=${maxCloud}`,
      n_results: found.length,
      user_id: userId,
    });
    res.json({ count: found.length, scenes: detail === 'ids' ? found.map((s) => ({ id: s.id })) : found });
  }),
);

app.get(
  '/scenes/:id',
  route(async (req, res) => {
    const id = String(req.params.id);
    const day = sceneDay(id);
    if (!day) throw invalid('id', 'expected a scene ID like S2A_20260601_T07');
    const signal = callerGone(res);
    const scenes = await forCaller(signal, store.getJson<Scene[]>(dayKey(day), { signal }));
    const scene = scenes?.find((s) => s.id === id);
    if (!scene) throw notFound(`scene ${id}`);
    res.json(scene);
  }),
);

/** A read made for a caller: aborted because the caller has gone, it fails as a 499, not a server error. */
async function forCaller<T>(signal: AbortSignal, read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (signal.aborted) throw callerGoneError();
    throw error;
  }
}

finishApp(app);
// The catalog seeds the store itself (idempotent: a marker object records the version), wherever it runs.
await seed(store);
await listen(app, config.ports.catalog, config.listenHost);
