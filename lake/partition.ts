/** Partition values as path segments: telemetry data reaches folder names, so it is reduced to safe tokens first. */
import { createHash } from 'node:crypto';

/** The longest partition value kept whole; a longer one keeps its start and a hash of the whole. */
const MAX_PARTITION_CHARS = 100;

/**
 * A partition value (event name, rejected reason, metric name, service) as a safe path token: telemetry data must
 * never steer a path. Only letters, digits, `.`, `_` and `-` are kept (anything else, `/` and `\` included, becomes
 * `_`), a leading dot becomes `_` (so no `.`, `..` or hidden name), and a value longer than 100 characters keeps its
 * start and a hash of the whole, so two long values stay apart. Idempotent: a token maps to itself.
 */
export function partitionValue(value: string): string {
  let token = value.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_');
  if (token.length > MAX_PARTITION_CHARS) {
    const hash = createHash('sha256').update(value).digest('hex').slice(0, 16);
    token = `${token.slice(0, MAX_PARTITION_CHARS - 17)}-${hash}`;
  }
  return token === '' ? '_' : token;
}

/** True when the value is already a safe partition token (see partitionValue). */
export function isPartitionToken(value: string): boolean {
  return partitionValue(value) === value;
}
