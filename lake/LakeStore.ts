/** The few S3 operations the lake needs, over one bucket. */
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { lakeConfig, type LakeConfig } from './config.ts';
import { localS3Client } from '../cli/stack/s3.ts';

export class LakeStore {
  readonly client: S3Client;
  readonly bucket: string;

  constructor(client: S3Client, bucket: string) {
    this.client = client;
    this.bucket = bucket;
  }

  /** The local stack's store (cli/stack/config.ts). */
  static local(config: LakeConfig = lakeConfig()): LakeStore {
    const { s3 } = config;
    return new LakeStore(localS3Client(s3), s3.bucket);
  }

  async list(prefix: string): Promise<{ key: string; size: number }[]> {
    const objects: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? [])
        if (item.Key) objects.push({ key: item.Key, size: item.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  async get(key: string): Promise<Buffer> {
    const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return Buffer.from(await response.Body!.transformToByteArray());
  }

  /** The object's text, gunzipped when the key says so. */
  async getText(key: string): Promise<string> {
    const bytes = await this.get(key);
    return (key.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  }

  async put(key: string, body: Buffer | string, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }
}
