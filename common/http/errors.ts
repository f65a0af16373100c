/**
 * Domain errors carry their HTTP status; one place at the edge (app.ts) maps them to responses. Validation errors
 * name the field.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  /** Response headers that belong to the error, e.g. `Retry-After` on a 429. */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    field?: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.headers = headers;
  }
}

export const invalid = (field: string, message: string) =>
  new HttpError(400, 'invalid_request', `${field}: ${message}`, field);

export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);

/** Too much work queued: the caller should come back after `retryAfterSeconds`. */
export const tooBusy = (message: string, retryAfterSeconds: number) =>
  new HttpError(429, 'too_busy', message, undefined, { 'retry-after': String(retryAfterSeconds) });
