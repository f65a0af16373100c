/**
 * A demo service on the common HTTP kit: the instrumentation's logger, the demo's body limit and its fault knobs
 * (configured latency and errors, and — where the demo turned it on — those a request asks for with the fault header).
 */
import type { Express, RequestHandler } from 'express';
import { createApp } from '../../common/http/app.ts';
import { HttpError } from '../../common/http/errors.ts';
import { logger } from '../../instrumentation/api.ts';
import { FAULT_HEADER, type DemoConfig, type Faults, type ServiceName } from '../config.ts';

export function createService(name: ServiceName, config: DemoConfig): Express {
  return createApp({ name, logger, bodyLimit: config.bodyLimit, before: [faults(name, config)] });
}

/**
 * The faults this service applies to one request: its configured ones, and what the fault header asks of it — only
 * when the header is enabled, and with the latency capped at `faultLatencyCapMs`.
 */
export function faultsFor(
  name: ServiceName,
  header: string | string[] | undefined,
  config: Pick<DemoConfig, 'faults' | 'faultHeader' | 'faultLatencyCapMs'>,
): Faults {
  let { latencyMs, errorRate } = config.faults[name];
  if (!config.faultHeader) return { latencyMs, errorRate };
  for (const fault of String(header ?? '').split(',')) {
    const [service, kind] = fault.trim().split(':');
    if (service !== name || !kind) continue;
    if (kind === 'error') errorRate = 1;
    const latency = kind.match(/^latency=(\d+)$/);
    if (latency) latencyMs = Math.min(Number(latency[1]), config.faultLatencyCapMs);
  }
  return { latencyMs, errorRate };
}

function faults(name: ServiceName, config: DemoConfig): RequestHandler {
  return (req, _res, next) => {
    const { latencyMs, errorRate } = faultsFor(name, req.headers[FAULT_HEADER], config);
    const fail = errorRate > 0 && Math.random() < errorRate;
    const proceed = () =>
      next(fail ? new HttpError(500, 'injected_fault', `${name}: injected fault`) : undefined);
    if (latencyMs > 0) setTimeout(proceed, latencyMs);
    else proceed();
  };
}
