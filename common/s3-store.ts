/**
 * The one S3 store every part uses, over one bucket: the local stack's store or real S3 (see `s3Settings` for the
 * rule that chooses). Calls through AWS SDK v3 show up in traces as S3 spans where the instrumentation is loaded.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { decompressedText } from './compression.ts';
import {
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { s3Settings, type S3Settings } from './config.ts';

export interface StoredObject {
  key: string;
  size: number;
  /** The object's entity tag, unquoted: changes whenever the content does. */
  etag: string;
}

/** A read's options: `signal` aborts it (its caller has gone). */
export interface ReadOptions {
  signal?: AbortSignal;
}

export class S3Store {
  readonly client: S3Client;
  readonly bucket: string;

  constructor(client: S3Client, bucket: string) {
    this.client = client;
    this.bucket = bucket;
  }

  /** The store the settings name; by default those of this process's environment. */
  static fromSettings(settings: S3Settings = s3Settings()): S3Store {
    return new S3Store(new S3Client(s3ClientConfig(settings)), settings.bucket);
  }

  /**
   * Every object under the prefix, at any depth, in key order; with `startAfter`, only those whose key sorts after
   * it. The local store answers it by walking the whole bucket: for the objects of one folder, `listFolder`.
   */
  async list(prefix: string, options: { startAfter?: string } = {}): Promise<StoredObject[]> {
    return this.listPages(prefix, options.startAfter);
  }

  /**
   * The objects directly in one folder (keys under the prefix with no `/` after it: the prefix is a folder ending in
   * `/`, or one plus the start of a name), in key order; with `startAfter`, only those whose key sorts after it.
   * The same objects as `list` for a folder with no folders in it, asked for with the delimiter `/`: S3 answers
   * either from its index, the local store reads that folder alone instead of walking the bucket — a cost that
   * follows the folder, not everything the lake has stored. A folder that does not exist is empty (the local store
   * answers NoSuchBucket for it; a bucket that does not exist still throws).
   */
  async listFolder(prefix: string, options: { startAfter?: string } = {}): Promise<StoredObject[]> {
    try {
      return await this.listPages(prefix, options.startAfter, '/');
    } catch (error) {
      if (!(error instanceof NoSuchBucket || (error as { name?: string }).name === 'NoSuchBucket'))
        throw error;
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return [];
    }
  }

  private async listPages(prefix: string, startAfter?: string, delimiter?: string): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          Delimiter: delimiter,
          ContinuationToken: token,
          StartAfter: token ? undefined : startAfter,
        }),
      );
      for (const item of page.Contents ?? [])
        // A store that ignores StartAfter (the local one lists a prefix whole) is held to it here.
        if (item.Key && !(startAfter !== undefined && item.Key <= startAfter))
          objects.push({ key: item.Key, size: item.Size ?? 0, etag: (item.ETag ?? '').replaceAll('"', '') });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /** The object's bytes; throws when there is no such key. `signal` aborts the request. */
  async get(key: string, options: ReadOptions = {}): Promise<Buffer> {
    const bytes = await this.getBytes(key, options);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The object's bytes in an array of their own (not a slice of a pool: transferable to a worker, no copy). */
  async getBytes(key: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      abortSignal: options.signal,
    });
    return response.Body!.transformToByteArray();
  }

  /** The object's bytes, or undefined when there is no such key. */
  async find(key: string, options: ReadOptions = {}): Promise<Buffer | undefined> {
    try {
      return await this.get(key, options);
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  /** The object's text, decompressed when the key says so (`.gz`, `.zst`). */
  async getText(key: string): Promise<string> {
    return decompressedText(key, await this.get(key));
  }

  /** The object parsed as JSON, or undefined when there is no such key. */
  async getJson<T>(key: string, options: ReadOptions = {}): Promise<T | undefined> {
    const bytes = await this.find(key, options);
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as T);
  }

  /** Writes the object; refuses a key that could climb out of a folder (see checkedKey). */
  async put(
    key: string,
    body: Uint8Array | string | Readable,
    contentType = 'application/octet-stream',
    contentLength?: number,
  ): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: checkedKey(key),
        Body: body,
        ContentType: contentType,
        ContentLength: contentLength,
      }),
    );
  }

  /** Streams a local file to the object, never holding it in memory. */
  async putFile(key: string, path: string, contentType = 'application/octet-stream'): Promise<void> {
    await this.put(key, createReadStream(path), contentType, (await stat(path)).size);
  }

  putJson(key: string, value: unknown): Promise<void> {
    return this.put(key, JSON.stringify(value), 'application/json');
  }
}

/** Thrown for an object key that is empty, absolute, or has an empty, `.` or `..` segment. */
export class UnsafeKeyError extends Error {
  constructor(key: string) {
    super(
      `refused object key ${JSON.stringify(key.slice(0, 300))}: empty, absolute, or with an empty, "." or ".." segment`,
    );
    this.name = 'UnsafeKeyError';
  }
}

/**
 * The key, when it is safe to hand to a store: the local store (gofakes3) keeps objects as files under its data
 * folder and joins the key onto it, so a `..` segment would reach outside (it refuses, but with a generic "Internal
 * Error" that stops whoever sent it). Real S3 would accept such a key, but a copy of it on disk would not be safe.
 */
export function checkedKey(key: string): string {
  const segments = key.split(/[/\\]/);
  if (
    key === '' ||
    key.startsWith('/') ||
    segments.slice(0, -1).some((s) => s === '' || s === '.' || s === '..') ||
    ['.', '..'].includes(segments.at(-1)!)
  ) {
    throw new UnsafeKeyError(key);
  }
  return key;
}

/** The S3 client options for the settings; for callers that need a bare client (e.g. to create a bucket). */
export function s3ClientConfig(settings: S3Settings): S3ClientConfig {
  const config: S3ClientConfig = { region: settings.region };
  if (settings.credentials) config.credentials = { ...settings.credentials };
  if (settings.endpoint !== undefined) {
    config.endpoint = settings.endpoint;
    // S3-compatible stores are addressed by path; the local one (gofakes3) also does not decode the aws-chunked
    // uploads that the SDK's default checksums use.
    config.forcePathStyle = true;
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  return config;
}
