// The one S3 rule (common/config.ts): which store, bucket, region and credentials each environment gets.
import { describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, s3Settings, sqsSettings } from '../../common/config.ts';

describe('s3Settings', () => {
  it('uses the local stack’s store, bucket and credentials when nothing is set and this is not AWS', () => {
    expect(s3Settings({})).toEqual({
      mode: 'local',
      bucket: 'observatory',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      credentials: { ...LOCAL_CREDENTIALS },
    });
    expect(s3Settings({ OBSERVATORY_S3_PORT: '9100' }).endpoint).toBe('http://127.0.0.1:9100');
  });

  it('uses the credential chain and AWS’s endpoint on AWS', () => {
    const settings = s3Settings({ AWS_LAMBDA_FUNCTION_NAME: 'crop-stats', AWS_REGION: 'eu-west-1' });
    expect(settings).toMatchObject({
      mode: 'cloud',
      region: 'eu-west-1',
      endpoint: undefined,
      credentials: undefined,
    });
    expect(s3Settings({ AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' }).mode).toBe('cloud');
  });

  it('takes the key pair of the environment it reads in cloud mode, with an S3-compatible endpoint and another bucket', () => {
    const settings = s3Settings({
      OBSERVATORY_S3_MODE: 'cloud',
      OBSERVATORY_S3_ENDPOINT: 'http://store.internal:9000',
      OBSERVATORY_S3_BUCKET: 'elsewhere',
      AWS_ACCESS_KEY_ID: 'key',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
      AWS_DEFAULT_REGION: 'ap-south-1',
    });
    expect(settings).toEqual({
      mode: 'cloud',
      bucket: 'elsewhere',
      region: 'ap-south-1',
      endpoint: 'http://store.internal:9000',
      credentials: { accessKeyId: 'key', secretAccessKey: 'secret', sessionToken: 'token' },
    });
  });

  it('lets OBSERVATORY_S3_MODE=local override AWS, and warns once about an unknown mode', () => {
    expect(s3Settings({ AWS_LAMBDA_FUNCTION_NAME: 'f', OBSERVATORY_S3_MODE: 'local' }).mode).toBe('local');
    const warnings: string[] = [];
    expect(s3Settings({ OBSERVATORY_S3_MODE: 'minio' }, (m) => warnings.push(m)).mode).toBe('local');
    expect(warnings).toEqual(['OBSERVATORY_S3_MODE="minio" is not local or cloud; using local']);
  });
});

describe('sqsSettings', () => {
  it('uses the local queue server off AWS and the regional endpoint with `aws` or on AWS', () => {
    expect(sqsSettings({})).toMatchObject({
      endpoint: 'http://127.0.0.1:9324',
      credentials: LOCAL_CREDENTIALS,
    });
    expect(sqsSettings({ OBSERVATORY_SQS_ENDPOINT: 'aws' })).toMatchObject({
      endpoint: undefined,
      credentials: undefined,
    });
    expect(sqsSettings({ AWS_LAMBDA_FUNCTION_NAME: 'f' }).endpoint).toBeUndefined();
  });
});
