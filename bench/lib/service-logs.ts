/**
 * Where an unexpected server error came from, read from the services' own logs: each service logs every 5xx it
 * answers at level error with the request's trace ID and the error (common/http/app.ts), so the lines of one trace
 * name the service whose own work failed and why, behind the gateway's `downstream_*` wrapping.
 */
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { maskIds, type Failure } from '../../demo/load-generator.ts';

/** One error line of a service's log. */
export interface ErrorLine {
  service: string;
  status: number | undefined;
  /** The error's code (`downstream_timeout`, `ECONNRESET`…), else its name or type. */
  code: string;
  message: string;
}

/** Pino's level number for error. */
const ERROR_LEVEL = 50;
/** The codes with which a caller wraps its downstream's failure: the failure began further down. */
const WRAPPED = new Set(['downstream_error', 'downstream_timeout', 'downstream_unavailable']);

/** The error lines of each of `traceIds` in the `*.log` files of `logDir` (one per service, pino JSON lines). */
export async function errorLinesByTrace(
  logDir: string,
  traceIds: ReadonlySet<string>,
): Promise<Map<string, ErrorLine[]>> {
  const found = new Map<string, ErrorLine[]>();
  for (const file of readdirSync(logDir).filter((name) => name.endsWith('.log'))) {
    const lines = createInterface({ input: createReadStream(join(logDir, file)), crlfDelay: Infinity });
    for await (const text of lines) {
      const line = errorLineOf(text, traceIds);
      if (!line) continue;
      const list = found.get(line.traceId) ?? [];
      list.push(line.error);
      found.set(line.traceId, list);
    }
  }
  return found;
}

function errorLineOf(
  text: string,
  traceIds: ReadonlySet<string>,
): { traceId: string; error: ErrorLine } | undefined {
  // Cheap tests first: most lines are info lines of traces that went well.
  if (!text.startsWith('{') || !text.includes('"trace_id"')) return undefined;
  let record: {
    level?: number;
    trace_id?: string;
    status?: number;
    msg?: string;
    'service.name'?: string;
    err?: { code?: string; name?: string; type?: string; message?: string };
  };
  try {
    record = JSON.parse(text) as typeof record;
  } catch {
    return undefined;
  }
  if ((record.level ?? 0) < ERROR_LEVEL || !record.trace_id || !traceIds.has(record.trace_id))
    return undefined;
  const err = record.err ?? {};
  return {
    traceId: record.trace_id,
    error: {
      service: record['service.name'] ?? 'unknown',
      status: record.status,
      code: String(err.code ?? err.name ?? err.type ?? 'unknown'),
      message: err.message ?? record.msg ?? '',
    },
  };
}

/** The cause of one unexpected server error: the route, the status, where it began and the error there. */
export interface Cause {
  route: string;
  status: number;
  /** The service whose own work failed, or the hop that failed (`gateway → catalog` for a timeout). */
  origin: string;
  /** The error there, IDs masked. */
  error: string;
}

/**
 * Where the failure began: the service that logged an error of its own (not a wrapped downstream failure); else, a
 * downstream timeout or unreachable downstream, the hop; else (nothing logged: the gateway gave no answer) the
 * client's hop with the network error.
 */
export function causeOf(failure: Failure, lines: readonly ErrorLine[] = []): Cause {
  const base = { route: failure.route, status: failure.status };
  const own = lines.find((line) => !WRAPPED.has(line.code));
  if (own) return { ...base, origin: own.service, error: maskIds(`${own.code}: ${own.message}`) };
  // The deepest wrapped line: its message names the downstream that did not answer.
  const wrapped = lines.find((line) => line.code !== 'downstream_error') ?? lines[0];
  if (wrapped) {
    const downstream = wrapped.message.split(' ')[0] ?? '?';
    return {
      ...base,
      origin: `${wrapped.service} → ${downstream}`,
      error: maskIds(`${wrapped.code}: ${wrapped.message}`),
    };
  }
  return { ...base, origin: 'client → gateway', error: maskIds(`${failure.code}: ${failure.message}`) };
}

/** Causes with their counts and one trace ID each, most frequent first. */
export function groupCauses(
  causes: readonly { cause: Cause; traceId: string | undefined }[],
): { cause: Cause; count: number; traceId: string | undefined }[] {
  const groups = new Map<string, { cause: Cause; count: number; traceId: string | undefined }>();
  for (const { cause, traceId } of causes) {
    const key = JSON.stringify(cause);
    const group = groups.get(key) ?? { cause, count: 0, traceId };
    group.count++;
    group.traceId ??= traceId;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}
