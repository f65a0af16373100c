import { gzipSync, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompressedText } from '../../common/compression.ts';

const text = '{"resourceSpans":[{"resource":{"attributes":[]}}]}\n';

describe('Raw objects by their key', () => {
  it('reads gzip (.gz), zstd (.zst) and plain JSON as the Collector writes them', () => {
    expect(decompressedText('raw/events/x.json.gz', gzipSync(text))).toBe(text);
    expect(decompressedText('raw/traces/x.json.zst', zstdCompressSync(text))).toBe(text);
    expect(decompressedText('raw/traces/x.json', Buffer.from(text))).toBe(text);
  });

  it('reads a view into a larger buffer, not the whole buffer behind it', () => {
    const packed = zstdCompressSync(text);
    const larger = new Uint8Array(packed.length + 16);
    larger.set(packed, 8);
    expect(decompressedText('a.json.zst', larger.subarray(8, 8 + packed.length))).toBe(text);
  });
});
