/**
 * A `tracestate` that follows the W3C Trace Context grammar strictly. OpenTelemetry JS's TraceState skips the members
 * it cannot parse and keeps the rest; the specification (and its test harness, STRICT_LEVEL=2) wants a header that
 * breaks the grammar discarded whole, so a vendor never receives a half-understood list.
 */
import type { TraceState } from '@opentelemetry/api';

/**
 * The key grammar of the current specification (2026: `( lcalpha / DIGIT ) 0*255 keychar`, `@` allowed anywhere
 * after the first character). It replaced the older two-form grammar (a simple key, or `tenant@system` with 241/14
 * character limits); the official harness checks the current one.
 */
const KEY = /^[a-z0-9][a-z0-9_\-*/@]{0,255}$/;
/** Up to 256 printable ASCII characters except `,` and `=`, not ending in a space. */
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
/** Optional whitespace around list members: spaces and horizontal tabs only. */
const OWS = /^[ \t]+|[ \t]+$/g;

/** The specification's limit on list members. */
export const MAX_MEMBERS = 32;
/** Vendors should propagate at least this many characters; longer lists are truncated by whole entries. */
export const MAX_LENGTH = 512;
/** Entries longer than this are the first to go when the list is too long. */
const LONG_ENTRY = 128;

export const isValidKey = (key: string): boolean => KEY.test(key);
export const isValidValue = (value: string): boolean => VALUE.test(value);

/**
 * Parses one or more received `tracestate` field values (several header lines are one list, in order). Returns
 * undefined when the list breaks the grammar: a member that is not `key=value` with a valid key and value, or more
 * than 32 members. Empty members are allowed; a list of nothing else is no state. A duplicate key keeps its first (left-most, most recent) entry, which
 * the specification allows the receiver to do.
 */
export function parseTraceState(header: string | string[] | undefined): StrictTraceState | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header.join(',') : header;
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  let members = 0;
  for (const part of raw.split(',')) {
    const member = part.replace(OWS, '');
    if (member === '') continue;
    if (++members > MAX_MEMBERS) return undefined;
    const at = member.indexOf('=');
    if (at < 0) return undefined;
    const key = member.slice(0, at);
    const value = member.slice(at + 1);
    if (!isValidKey(key) || !isValidValue(value)) return undefined;
    if (seen.has(key)) continue;
    seen.add(key);
    entries.push([key, value]);
  }
  return entries.length === 0 ? undefined : new StrictTraceState(truncate(entries));
}

/**
 * Keeps the serialized list within MAX_LENGTH by dropping whole entries: those longer than 128 characters first,
 * then from the end, as the specification says.
 */
function truncate(entries: [string, string][]): [string, string][] {
  const length = (list: [string, string][]) =>
    list.reduce((sum, [key, value]) => sum + key.length + value.length + 1, Math.max(0, list.length - 1));
  let kept = entries;
  while (length(kept) > MAX_LENGTH) {
    const long = kept.findIndex(([key, value]) => key.length + value.length + 1 > LONG_ENTRY);
    kept = kept.filter((_, i) => i !== (long >= 0 ? long : kept.length - 1));
  }
  return kept;
}

/** An immutable list of vendor entries, left-most first, implementing the API's TraceState. */
export class StrictTraceState implements TraceState {
  private readonly entries: readonly [string, string][];

  constructor(entries: readonly [string, string][] = []) {
    this.entries = entries;
  }

  /** A new state with the entry first (updated entries move to the front); an invalid key or value changes nothing. */
  set(key: string, value: string): StrictTraceState {
    if (!isValidKey(key) || !isValidValue(value)) return this;
    const rest = this.entries.filter(([k]) => k !== key);
    if (rest.length >= MAX_MEMBERS) return this;
    return new StrictTraceState(truncate([[key, value], ...rest]));
  }

  unset(key: string): StrictTraceState {
    return new StrictTraceState(this.entries.filter(([k]) => k !== key));
  }

  get(key: string): string | undefined {
    return this.entries.find(([k]) => k === key)?.[1];
  }

  serialize(): string {
    return this.entries.map(([key, value]) => `${key}=${value}`).join(',');
  }
}
