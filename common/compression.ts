/** Raw objects' compression, chosen by the key's extension as the Collector's awss3 exporters name them. */
import { gunzipSync, zstdDecompressSync } from 'node:zlib';

/** Thrown when an object would decompress to more than the bound: a gzip bomb, or a batch larger than any we accept. */
export class DecompressedTooLargeError extends Error {
  constructor(key: string, maxBytes: number) {
    super(`${key} decompresses to more than ${maxBytes} bytes`);
    this.name = 'DecompressedTooLargeError';
  }
}

/**
 * An object's bytes as text, decompressed by its key's extension: `.gz` (gzip, what the Collector's awss3 exporters
 * write for events, logs and metrics) or `.zst` (zstd, what it writes for traces: a fraction of gzip's CPU per span).
 * `maxBytes` bounds the decompressed size: a few kilobytes of gzip can inflate to gigabytes, and the reader must not
 * find out by running out of memory. Beyond it, DecompressedTooLargeError.
 */
export function decompressedText(key: string, bytes: Uint8Array, maxBytes = Infinity): string {
  return decompressed(key, bytes, maxBytes).toString('utf8');
}

/** The object's bytes decompressed by its key's extension (see decompressedText), as a Buffer. */
export function decompressed(key: string, bytes: Uint8Array, maxBytes = Infinity): Buffer {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const options = Number.isFinite(maxBytes) ? { maxOutputLength: maxBytes } : {};
  try {
    if (key.endsWith('.gz')) return gunzipSync(buffer, options);
    if (key.endsWith('.zst')) return zstdDecompressSync(buffer, options);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new DecompressedTooLargeError(key, maxBytes);
    throw error;
  }
  if (buffer.byteLength > maxBytes) throw new DecompressedTooLargeError(key, maxBytes);
  return buffer;
}
