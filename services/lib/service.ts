/**
 * A demo service on the common HTTP kit: the instrumentation's logger, the demo's body limit and its fault knobs
 * (configured latency and errors, and those a request asks for with the fault header).
 */
import type { Express, RequestHandler } from 'express';
import { createApp } from '../../common/http/app.ts';
import { HttpError } from '../../common/http/errors.ts';
import { logger } from '../../instrumentation/api.ts';
import { FAULT_HEADER, type DemoConfig, type ServiceName } from '../config.ts';

export function createService(name: ServiceName, config: DemoConfig): Express {
  return createApp({ name, logger, bodyLimit: config.bodyLimit, before: [faults(name, config)] });
}

function faults(name: ServiceName, config: DemoConfig): RequestHandler {
  return (req, _res, next) => {
    let { latencyMs, errorRate } = config.faults[name];
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
