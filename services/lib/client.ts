/**
 * Service-to-service calls. Trace context (and baggage) is injected by the fetch instrumentation; this adds a
 * timeout, forwards the fault header, stops when the incoming request's caller has gone, and maps downstream
 * failures: unreachable → 503, timeout → 504, a 5xx → 502, and a 4xx passes through with its code.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../../common/http/errors.ts';
import { FAULT_HEADER } from '../config.ts';

export interface CallOptions {
  method?: string;
  body?: unknown;
  /** The incoming request's headers, to forward the fault header. */
  incoming?: Record<string, string | string[] | undefined>;
  timeoutMs: number;
  /** Aborts the call: the incoming request's caller has gone (see `callerGone`). */
  signal?: AbortSignal;
}

const GONE = Symbol('caller gone');

/**
 * A signal that aborts when the caller of `res`'s request closes the connection before the answer was sent — it gave
 * up (its own timeout) — so that the calls still to make for it (a staircase of N+1 catalog calls) are not made: on a
 * saturated machine that work for nobody kept the services behind long after the cause had passed. One per request.
 */
export function callerGone(res: ServerResponse<IncomingMessage>): AbortSignal {
  const holder = res as ServerResponse<IncomingMessage> & { [GONE]?: AbortController };
  let controller = holder[GONE];
  if (!controller) {
    const created = new AbortController();
    controller = holder[GONE] = created;
    res.once('close', () => {
      if (!res.writableFinished) created.abort(new Error('the caller closed the connection'));
    });
  }
  return controller.signal;
}

/** What a service answers (to nobody) when its caller has gone: 499, not a server error. */
export function callerGoneError(service?: string): HttpError {
  const before = service ? `${service} answered` : 'the answer was ready';
  return new HttpError(499, 'caller_gone', `the caller closed the connection before ${before}`);
}

export async function call(service: string, url: string, options: CallOptions): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const fault = options.incoming?.[FAULT_HEADER];
  if (typeof fault === 'string') headers[FAULT_HEADER] = fault;
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal
        ? AbortSignal.any([AbortSignal.timeout(options.timeoutMs), options.signal])
        : AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    if (options.signal?.aborted) {
      // Nobody will read the answer; 499 (as nginx names it) keeps it out of the server errors.
      throw callerGoneError(service);
    }
    if ((error as Error).name === 'TimeoutError') {
      throw new HttpError(
        504,
        'downstream_timeout',
        `${service} did not answer within ${options.timeoutMs} ms`,
      );
    }
    // The answer names no address; the socket error (refused, reset, closed under the request) goes to the logs and
    // the span as the error's cause.
    const unavailable = new HttpError(503, 'downstream_unavailable', `${service} is unavailable`);
    unavailable.cause = error;
    throw unavailable;
  }
  if (response.status >= 500) {
    const detail = await response.text().catch(() => '');
    throw new HttpError(
      502,
      'downstream_error',
      `${service} failed with ${response.status}${summary(detail)}`,
    );
  }
  if (response.status >= 400) {
    const body = (await response.json().catch(() => ({}))) as {
      error?: { code?: string; message?: string; field?: string };
    };
    // A busy downstream's Retry-After tells our caller when to come back, too.
    const retryAfter = response.headers.get('retry-after');
    throw new HttpError(
      response.status,
      body.error?.code ?? 'downstream_rejected',
      body.error?.message ?? `${service} answered ${response.status}`,
      body.error?.field,
      retryAfter === null ? {} : { 'retry-after': retryAfter },
    );
  }
  return response;
}

export async function callJson<T>(service: string, url: string, options: CallOptions): Promise<T> {
  return (await (await call(service, url, options)).json()) as T;
}

function summary(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: string } }).error?.message;
    return message ? `: ${message}` : '';
  } catch {
    return '';
  }
}
