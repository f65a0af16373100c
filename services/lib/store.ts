/**
 * The S3 store every service keeps its data in (the local stack's, or real S3). Calls through AWS SDK v3 show up
 * in traces as S3 spans.
 */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DemoConfig } from '../config.ts';
import { localS3Client } from '../../cli/stack/s3.ts';

export class Store {
  readonly bucket: string;
  private readonly client: S3Client;

  /** `endpoint` null means real S3 with the SDK's own credentials (on AWS); by default the local stack's store. */
  constructor(s3: DemoConfig['s3'], endpoint: string | null = s3.endpoint) {
    this.bucket = s3.bucket;
    this.client =
      endpoint === null ? new S3Client({ region: s3.region }) : localS3Client({ ...s3, endpoint });
  }

  /**
   * The store a Lambda-style handler uses: OBSERVATORY_S3_ENDPOINT (set by the local fleet) or real S3 when unset,
   * and the bucket from OBSERVATORY_S3_BUCKET.
   */
  static fromEnvironment(s3: DemoConfig['s3'], env: Record<string, string | undefined> = process.env): Store {
    const endpoint = env.OBSERVATORY_S3_ENDPOINT?.trim();
    return new Store(s3, endpoint ? endpoint : null);
  }

  /** The object's bytes, or undefined when there is no such key. */
  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await response.Body!.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const bytes = await this.get(key);
    return bytes === undefined ? undefined : (JSON.parse(Buffer.from(bytes).toString('utf8')) as T);
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
