/** The one way to build a client for the local stack's S3 store. */
import { S3Client } from '@aws-sdk/client-s3';

export interface LocalS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function localS3Client(s3: LocalS3): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    // The local store (gofakes3) does not decode aws-chunked uploads, which the SDK's default checksums use.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
}
