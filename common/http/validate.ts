/** Input checks for HTTP handlers; each error names the field and what was expected. */
import { invalid } from './errors.ts';

export function date(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value))
    throw invalid(field, 'expected a date YYYY-MM-DD');
  const parsed = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== value) {
    throw invalid(field, `${value} is not a calendar date`);
  }
  return value;
}

/** A date range of at most `maxDays` days, `from` not after `to`. */
export function dateRange(
  from: unknown,
  to: unknown,
  maxDays: number,
): { from: string; to: string; days: string[] } {
  const start = date(from, 'from');
  const end = date(to, 'to');
  if (start > end) throw invalid('to', `the range is inverted: to (${end}) is before from (${start})`);
  const first = Date.parse(`${start}T00:00:00Z`);
  const count = (Date.parse(`${end}T00:00:00Z`) - first) / 86_400_000 + 1;
  if (count > maxDays) throw invalid('to', `the range spans ${count} days; at most ${maxDays} are allowed`);
  const days = Array.from({ length: count }, (_, i) =>
    new Date(first + i * 86_400_000).toISOString().slice(0, 10),
  );
  return { from: start, to: end, days };
}

export function numberIn(value: unknown, field: string, min: number, max: number, fallback?: number): number {
  if (value === undefined || value === '') {
    if (fallback !== undefined) return fallback;
    throw invalid(field, 'is required');
  }
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < min || n > max)
    throw invalid(field, `expected a number in [${min}, ${max}]`);
  return n;
}

export function text(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw invalid(field, 'is required (a non-empty string)');
  if (value.length > maxLength) throw invalid(field, `is longer than ${maxLength} characters`);
  return value.trim();
}

export function email(value: unknown, field = 'email'): string {
  const address = text(value, field, 254);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) throw invalid(field, 'is not an e-mail address');
  return address;
}

export function oneOf<T extends string>(
  value: unknown,
  field: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(field, `expected one of ${allowed.join(', ')}`);
}

export function uuid(value: unknown, field: string): string {
  if (
    typeof value !== 'string' ||
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)
  ) {
    throw invalid(field, 'expected a UUID');
  }
  return value;
}

/** Requires a JSON object body. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('body', 'expected a JSON object (Content-Type: application/json)');
  }
  return body as Record<string, unknown>;
}
