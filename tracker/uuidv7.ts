/**
 * UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then randomness, so IDs sort by creation time and serve as the
 * lake's dedup key. Within one millisecond the 12-bit rand_a field counts up from a random start (the RFC's
 * "fixed-length dedicated counter", method 1), so IDs from one process are strictly increasing.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 16 * 256;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;
let lastMs = -1;
let counter = 0;

function randomBytes10(): Buffer {
  // One getrandom call per 256 IDs instead of one per ID: the hot path of track().
  if (poolOffset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return bytes;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function uuidv7(now: number = Date.now()): string {
  const random = randomBytes10();
  let ms = now;
  if (ms <= lastMs) {
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      // Counter exhausted: borrow the next millisecond rather than lose ordering.
      ms = ++lastMs;
      counter = random[0]! & 0x7ff;
    }
  } else {
    // Start below half the range so a burst within one millisecond has room to count.
    counter = ((random[0]! << 8) | random[1]!) & 0x7ff;
  }
  lastMs = ms;

  // Hex digits written straight from the fields: no intermediate byte array (track() calls this per event).
  const r = random;
  return (
    hex2((ms / 2 ** 40) & 0xff) +
    hex2((ms / 2 ** 32) & 0xff) +
    hex2((ms >>> 24) & 0xff) +
    hex2((ms >>> 16) & 0xff) +
    '-' +
    hex2((ms >>> 8) & 0xff) +
    hex2(ms & 0xff) +
    '-' +
    hex2(0x70 | ((counter >>> 8) & 0x0f)) +
    hex2(counter & 0xff) +
    '-' +
    hex2(0x80 | (r[2]! & 0x3f)) +
    hex2(r[3]!) +
    '-' +
    hex2(r[4]!) +
    hex2(r[5]!) +
    hex2(r[6]!) +
    hex2(r[7]!) +
    hex2(r[8]!) +
    hex2(r[9]!)
  );
}

const hex2 = (byte: number): string => HEX[byte]!;

/** The creation time (Unix ms) encoded in a UUIDv7. */
export function uuidv7Time(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}
