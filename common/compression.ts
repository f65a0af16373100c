/** Raw objects' compression, chosen by the key's extension as the Collector's awss3 exporters name them. */
import { gunzipSync, zstdDecompressSync } from 'node:zlib';

/**
 * An object's bytes as text, decompressed by its key's extension: `.gz` (gzip, what the Collector's awss3 exporters
 * write for events, logs and metrics) or `.zst` (zstd, what it writes for traces: a fraction of gzip's CPU per span).
 */
export function decompressedText(key: string, bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (key.endsWith('.gz')) return gunzipSync(buffer).toString('utf8');
  if (key.endsWith('.zst')) return zstdDecompressSync(buffer).toString('utf8');
  return buffer.toString('utf8');
}
