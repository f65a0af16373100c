/**
 * The shape every demo service shares: an Express app with a JSON body limit, the fault knobs, a health route, and
 * one error handler at the edge that turns every failure into a JSON body with the trace ID — never a crash.
 */
import type { Server } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { activeTraceId, logger } from '../../instrumentation/api.ts';
import { FAULT_HEADER, type DemoConfig, type ServiceName } from '../config.ts';
import { HttpError } from './errors.ts';

export function createApp(name: ServiceName | 'etl-listener', config: DemoConfig): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: name });
  });
  app.use(faults(name, config));
  app.use(express.json({ limit: config.bodyLimit }));
  return app;
}

/** Ends the app: unknown routes get a JSON 404, and every error goes through one mapping. */
export function finishApp(app: Express): void {
  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`)));
  app.use(errorHandler);
}

export function listen(
  app: Express,
  port: number,
  name: ServiceName | 'etl-listener',
  host: string,
): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      logger.info({ port: bound }, `${name} listening`);
      process.stdout.write(`LISTENING ${bound}\n`);
      resolve(server);
    });
  });
}

/** Async route handlers: a rejected promise reaches the error handler. */
export const route =
  (handler: (req: express.Request, res: express.Response) => Promise<void>): RequestHandler =>
  (req, res, next) => {
    handler(req, res).catch(next);
  };

const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
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
  res.status(mapped.status).json({
    error: { code: mapped.code, message: mapped.message, ...(mapped.field ? { field: mapped.field } : {}) },
    trace_id: activeTraceId(),
  });
};

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const status = (error as { status?: number; type?: string }).status;
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

/** Injects the configured latency and errors, and those a request asks for with the fault header. */
function faults(name: ServiceName | 'etl-listener', config: DemoConfig): RequestHandler {
  return (req, _res, next) => {
    let { latencyMs, errorRate } =
      name === 'etl-listener' ? { latencyMs: 0, errorRate: 0 } : config.faults[name];
    for (const fault of String(req.headers[FAULT_HEADER] ?? '').split(',')) {
      const [service, kind] = fault.trim().split(':');
      if (service !== name || !kind) continue;
      if (kind === 'error') errorRate = 1;
      const latency = kind.match(/^latency=(\d+)$/);
      if (latency) latencyMs = Number(latency[1]);
    }
    const fail = errorRate > 0 && Math.random() < errorRate;
    const proceed = () =>
      next(fail ? new HttpError(500, 'injected_fault', `${name}: injected fault`) : undefined);
    if (latencyMs > 0) setTimeout(proceed, latencyMs);
    else proceed();
  };
}
