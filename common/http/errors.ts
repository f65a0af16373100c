/**
 * Domain errors carry their HTTP status; one place at the edge (app.ts) maps them to responses. Validation errors
 * name the field.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export const invalid = (field: string, message: string) =>
  new HttpError(400, 'invalid_request', `${field}: ${message}`, field);

export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);
