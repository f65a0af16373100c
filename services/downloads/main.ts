/**
 * downloads: serves image bytes from the S3 store and records `image_downloaded`.
 *   GET /images/:id?user_id=
 */
import { demoConfig } from '../config.ts';
import { finishApp, listen, route } from '../../common/http/app.ts';
import { createService } from '../lib/service.ts';
import { invalid, notFound } from '../../common/http/errors.ts';
import { track } from '../../tracker/track.ts';
import { imageKey, sceneDay } from '../../imagery/scenes.ts';
import { S3Store } from '../../common/s3-store.ts';

const config = demoConfig();
const store = S3Store.fromSettings(config.s3);
const app = createService('downloads', config);

app.get(
  '/images/:id',
  route(async (req, res) => {
    const id = String(req.params.id);
    if (!sceneDay(id)) throw invalid('id', 'expected a scene ID like S2A_20260601_T07');
    const bytes = await store.find(imageKey(id));
    if (!bytes) throw notFound(`image of scene ${id}`);
    const userId = typeof req.query.user_id === 'string' ? req.query.user_id : 'anonymous';
    track('image_downloaded', { user_id: userId, img_id: id, image_size: bytes.byteLength });
    res.type('application/octet-stream').send(Buffer.from(bytes));
  }),
);

finishApp(app);
await listen(app, config.ports.downloads, config.listenHost);
