/**
 * A small, neutral HTTP kit for our Express services (the demo's and the ETL listener): a JSON body limit, a health
 * route, and one error handler at the edge that turns every failure into a JSON body with the trace ID — never a
 * crash. It knows no service: the logger and any middleware (the demo's fault knobs) are passed in.
 */
import type { Server } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { activeTraceId } from '../active-trace.ts';
import { HttpError } from './errors.ts';
import { heapReleaseSettings } from '../config.ts';
import { keepHeapPagesReleased } from '../heap-pages.ts';

/** What the kit logs through: pino's shape (the instrumentation's logger fits). */
export interface HttpLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface AppOptions {
  /** The service's name, in the health answer and the listening log line. */
  name: string;
  logger: HttpLogger;
  /** Largest JSON body accepted. @default '16kb' */
  bodyLimit?: string;
  /** Middleware run before the body parser on every route but the health check. @default [] */
  before?: RequestHandler[];
}

interface Locals {
  name: string;
  logger: HttpLogger;
}

export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  const locals: Locals = { name: options.name, logger: options.logger };
  app.locals.kit = locals;
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: options.name });
  });
  for (const handler of options.before ?? []) app.use(handler);
  app.use(express.json({ limit: options.bodyLimit ?? '16kb' }));
  return app;
}

/** Ends the app: unknown routes get a JSON 404, and every error goes through one mapping. */
export function finishApp(app: Express): void {
  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(kit(app).logger));
}

/**
 * How much longer than the keep-alive timeout it advertises (`Keep-Alive: timeout=5`, Node's default) a server keeps
 * an idle connection open. A client (undici's fetch) stops reusing a connection a little before the advertised
 * timeout; but when the server's event loop stalls (a busy machine), its idle timer fires late, in the same turn as a
 * request the client sent on that connection in time — and the timer runs first: the connection is closed under the
 * request ("other side closed", a 503 at the caller). Node's own buffer is 1 s; stalls of several seconds were seen
 * (the soak), so the server waits past the longest a caller waits for an answer (the demo's 5 s downstream timeout):
 * a request stalled that long has timed out at its caller already.
 */
export const KEEP_ALIVE_TIMEOUT_BUFFER_MS = 10_000;

/**
 * Listens and prints `LISTENING <port>` on stdout, which the process supervisors (demo, tests) wait for. While the
 * service runs it gives back the heap pages a burst left in V8's pool — the catalog's seeding of a fresh store, once V8
 * has collected it (≈ 50 MiB, in the soak at its first check after start) — checked now and every interval
 * (common/heap-pages.ts).
 */
export function listen(app: Express, port: number, host: string): Promise<Server> {
  const { name, logger } = kit(app);
  const stopReleasing = keepHeapPagesReleased(heapReleaseSettings(), (release) =>
    logger.info(
      {
        pooled_mib: Math.round(release.pooledMiB),
        left_mib: Math.round(release.leftMiB),
        pause_ms: Math.round(release.pauseMs),
      },
      'gave pooled V8 heap pages back',
    ),
  );
  return new Promise((resolve) => {
    const server = app.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      logger.info({ port: bound }, `${name} listening`);
      process.stdout.write(`LISTENING ${bound}\n`);
      resolve(server);
    });
    server.keepAliveTimeoutBuffer = KEEP_ALIVE_TIMEOUT_BUFFER_MS;
    server.once('close', stopReleasing);
  });
}

/** Async route handlers: a rejected promise reaches the error handler. */
export const route =
  (handler: (req: express.Request, res: express.Response) => Promise<void>): RequestHandler =>
  (req, res, next) => {
    handler(req, res).catch(next);
  };

function kit(app: Express): Locals {
  return app.locals.kit as Locals;
}

function errorHandler(logger: HttpLogger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const mapped = toHttpError(error);
    const span = trace.getActiveSpan();
    if (mapped.status >= 500) {
      span?.recordException(error instanceof Error ? error : new Error(String(error)));
      span?.setStatus({ code: SpanStatusCode.ERROR, message: mapped.message });
      logger.error({ err: error, status: mapped.status, path: req.path }, mapped.message);
    } else {
      logger.warn({ status: mapped.status, code: mapped.code, path: req.path }, mapped.message);
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.set(mapped.headers);
    res.status(mapped.status).json({
      error: { code: mapped.code, message: mapped.message, ...(mapped.field ? { field: mapped.field } : {}) },
      trace_id: activeTraceId(),
    });
  };
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const status = (error as { status?: number }).status;
  const type = (error as { type?: string }).type;
  // body-parser's errors carry a status and a type.
  if (type === 'entity.parse.failed')
    return new HttpError(400, 'malformed_json', 'the request body is not valid JSON');
  if (type === 'entity.too.large')
    return new HttpError(413, 'body_too_large', 'the request body is too large');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'bad_request', (error as Error).message);
  }
  return new HttpError(500, 'internal', 'internal error');
}
