/**
 * The one S3 store every part uses, over one bucket: the local stack's store or real S3 (see `s3Settings` for the
 * rule that chooses). Calls through AWS SDK v3 show up in traces as S3 spans where the instrumentation is loaded.
 */
import { decompressedText } from './compression.ts';
import {
  GetObjectCommand,
  ListObjectsV2Command,
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

  async list(prefix: string): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? [])
        if (item.Key)
          objects.push({ key: item.Key, size: item.Size ?? 0, etag: (item.ETag ?? '').replaceAll('"', '') });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /** The object's bytes; throws when there is no such key. */
  async get(key: string): Promise<Buffer> {
    const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return Buffer.from(await response.Body!.transformToByteArray());
  }

  /** The object's bytes, or undefined when there is no such key. */
  async find(key: string): Promise<Buffer | undefined> {
    try {
      return await this.get(key);
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
  async getJson<T>(key: string): Promise<T | undefined> {
    const bytes = await this.find(key);
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as T);
  }

  async put(key: string, body: Uint8Array | string, contentType = 'application/octet-stream'): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  putJson(key: string, value: unknown): Promise<void> {
    return this.put(key, JSON.stringify(value), 'application/json');
  }
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
