/**
 * A server on the common HTTP kit (common/http/app.ts) whose event loop can be stalled on demand, as a busy machine
 * stalls a service: `GET /ok` answers at once; `GET /stall?ms=N` sends its headers, then blocks the event loop for N
 * ms before it ends. Prints `LISTENING <port>` like the services.
 */
import { createApp, finishApp, listen } from '../../common/http/app.ts';

const say = (fields: object, message: string) =>
  process.stderr.write(`${message} ${JSON.stringify(fields)}\n`);
const app = createApp({ name: 'stalling', logger: { info: say, warn: say, error: say } });

app.get('/ok', (_req, res) => {
  res.json({ ok: true });
});

app.get('/stall', (req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.flushHeaders();
  const until = Date.now() + Number(req.query.ms);
  // Deliberately synchronous: nothing else in this process runs meanwhile, timers included.
  while (Date.now() < until);
  res.end('stalled');
});

finishApp(app);
await listen(app, 0, '127.0.0.1');
