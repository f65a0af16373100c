/**
 * users: creates and reads users, kept as objects in the S3 store; records `user_created`.
 *   POST /users {name, email, plan?}    GET /users/:id
 * The e-mail address is stored but never returned, logged or put on spans.
 */
import { randomUUID } from 'node:crypto';
import { demoConfig } from '../config.ts';
import { finishApp, listen, route } from '../../common/http/app.ts';
import { createService } from '../lib/service.ts';
import { notFound } from '../../common/http/errors.ts';
import { track } from '../../tracker/track.ts';
import { S3Store } from '../../common/s3-store.ts';
import { email, objectBody, oneOf, text, uuid } from '../../common/http/validate.ts';

interface User {
  id: string;
  name: string;
  email: string;
  plan: 'free' | 'pro' | 'enterprise';
  created_at: string;
}

const config = demoConfig();
const store = S3Store.fromSettings(config.s3);
const app = createService('users', config);
const publicView = ({ id, name, plan, created_at }: User) => ({ id, name, plan, created_at });

app.post(
  '/users',
  route(async (req, res) => {
    const body = objectBody(req.body);
    const user: User = {
      id: randomUUID(),
      name: text(body.name, 'name', 100),
      email: email(body.email),
      plan: oneOf(body.plan, 'plan', ['free', 'pro', 'enterprise'] as const, 'free'),
      created_at: new Date().toISOString(),
    };
    await store.putJson(`users/${user.id}.json`, user);
    track('user_created', { user_id: user.id, plan: user.plan });
    res.status(201).json(publicView(user));
  }),
);

app.get(
  '/users/:id',
  route(async (req, res) => {
    const id = uuid(req.params.id, 'id');
    const user = await store.getJson<User>(`users/${id}.json`);
    if (!user) throw notFound(`user ${id}`);
    res.json(publicView(user));
  }),
);

finishApp(app);
await listen(app, config.ports.users, config.listenHost);
