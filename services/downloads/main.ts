/**
 * downloads: serves image bytes from the S3 store and records `image_downloaded`.
 *   GET /images/:id?user_id=
 */
import { demoConfig } from '../config.ts';
import { createApp, finishApp, listen, route } from '../lib/app.ts';
import { invalid, notFound } from '../lib/errors.ts';
import { track } from '../lib/events.ts';
import { imageKey, sceneDay } from '../lib/scenes.ts';
import { Store } from '../lib/store.ts';

const config = demoConfig();
const store = new Store(config.s3);
const app = createApp('downloads', config);

app.get(
  '/images/:id',
  route(async (req, res) => {
    const id = String(req.params.id);
    if (!sceneDay(id)) throw invalid('id', 'expected a scene ID like S2A_20260601_T07');
    const bytes = await store.get(imageKey(id));
    if (!bytes) throw notFound(`image of scene ${id}`);
    const userId = typeof req.query.user_id === 'string' ? req.query.user_id : 'anonymous';
    track('image_downloaded', { user_id: userId, img_id: id, image_size: bytes.byteLength });
    res.type('application/octet-stream').send(Buffer.from(bytes));
  }),
);

finishApp(app);
await listen(app, config.ports.downloads, 'downloads', config.listenHost);
