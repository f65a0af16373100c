/**
 * The ground floor's config (common/config.ts): the local stack's ports, the one rule for "am I on AWS", and the
 * one rule for which S3 store and SQS endpoint every part talks to.
 */
import { describe, expect, it } from 'vitest';
import {
  LOCAL_CREDENTIALS,
  localStackPorts,
  onAws,
  s3Settings,
  shutdownTimeoutMs,
  sqsSettings,
} from '../../common/config.ts';

/** Collects warnings instead of writing them. */
function sink() {
  const warnings: string[] = [];
  return { warnings, warn: (message: string) => void warnings.push(message) };
}

describe('localStackPorts', () => {
  it('uses the documented defaults', () => {
    expect(localStackPorts({})).toEqual({
      collector: { otlpGrpc: 4317, otlpHttp: 4318, health: 13133, metrics: 8888, prometheusExporter: 8889 },
      jaeger: {
        query: 16686,
        queryGrpc: 16685,
        otlpGrpc: 14317,
        otlpHttp: 14318,
        health: 14133,
        metrics: 14269,
      },
      prometheus: 9090,
      s3: 9000,
      sqs: 9324,
    });
  });

  it('reads each port from OBSERVATORY_<NAME>_PORT', () => {
    const ports = localStackPorts({ OBSERVATORY_S3_PORT: '19000', OBSERVATORY_JAEGER_QUERY_PORT: '26686' });
    expect(ports.s3).toBe(19000);
    expect(ports.jaeger.query).toBe(26686);
  });
});

describe('onAws', () => {
  it('is true under the Lambda runtime or ECS, false elsewhere, and an empty variable does not count', () => {
    expect(onAws({})).toBe(false);
    expect(onAws({ AWS_LAMBDA_FUNCTION_NAME: 'crop-stats' })).toBe(true);
    expect(onAws({ AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' })).toBe(true);
    expect(onAws({ AWS_LAMBDA_FUNCTION_NAME: '' })).toBe(false);
    expect(onAws({ AWS_REGION: 'eu-west-1' })).toBe(false);
  });
});

describe('s3Settings', () => {
  it('is the local store, with its fixed credentials, off AWS', () => {
    expect(s3Settings({})).toEqual({
      mode: 'local',
      bucket: 'observatory',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      credentials: LOCAL_CREDENTIALS,
    });
  });

  it('follows OBSERVATORY_S3_PORT for the local endpoint', () => {
    expect(s3Settings({ OBSERVATORY_S3_PORT: '19000' }).endpoint).toBe('http://127.0.0.1:19000');
  });

  it('points the local mode at OBSERVATORY_S3_ENDPOINT, still with the local credentials', () => {
    const settings = s3Settings({
      OBSERVATORY_S3_ENDPOINT: 'http://store.test:7000',
      OBSERVATORY_S3_BUCKET: 'b2',
    });
    expect(settings).toMatchObject({ mode: 'local', endpoint: 'http://store.test:7000', bucket: 'b2' });
    expect(settings.credentials).toEqual(LOCAL_CREDENTIALS);
  });

  it('is the cloud store on AWS: no endpoint, no fixed credentials (the SDK resolves both), the AWS region', () => {
    const settings = s3Settings({ AWS_LAMBDA_FUNCTION_NAME: 'crop-stats', AWS_REGION: 'eu-west-1' });
    expect(settings).toEqual({
      mode: 'cloud',
      bucket: 'observatory',
      region: 'eu-west-1',
      endpoint: undefined,
      credentials: undefined,
    });
  });

  it('sends the cloud mode to an S3-compatible store when OBSERVATORY_S3_ENDPOINT is set', () => {
    const settings = s3Settings({
      OBSERVATORY_S3_MODE: 'cloud',
      OBSERVATORY_S3_ENDPOINT: 'https://s3.example.test',
    });
    expect(settings).toMatchObject({
      mode: 'cloud',
      endpoint: 'https://s3.example.test',
      credentials: undefined,
    });
  });

  it('lets OBSERVATORY_S3_MODE override the rule either way, in any case', () => {
    expect(s3Settings({ OBSERVATORY_S3_MODE: 'CLOUD' }).mode).toBe('cloud');
    expect(s3Settings({ OBSERVATORY_S3_MODE: 'local', AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' })).toMatchObject({
      mode: 'local',
      endpoint: 'http://127.0.0.1:9000',
      credentials: LOCAL_CREDENTIALS,
    });
  });

  it('reads the region from AWS_REGION, then AWS_DEFAULT_REGION', () => {
    expect(s3Settings({ AWS_DEFAULT_REGION: 'ap-south-1' }).region).toBe('ap-south-1');
    expect(s3Settings({ AWS_REGION: 'eu-north-1', AWS_DEFAULT_REGION: 'ap-south-1' }).region).toBe(
      'eu-north-1',
    );
  });

  it('warns about an unknown mode, naming the variable, and falls back to the rule', () => {
    const { warnings, warn } = sink();
    expect(s3Settings({ OBSERVATORY_S3_MODE: 'minio' }, warn).mode).toBe('local');
    expect(s3Settings({ OBSERVATORY_S3_MODE: 'minio', AWS_LAMBDA_FUNCTION_NAME: 'f' }, warn).mode).toBe(
      'cloud',
    );
    expect(warnings).toEqual([
      'OBSERVATORY_S3_MODE="minio" is not local or cloud; using local',
      'OBSERVATORY_S3_MODE="minio" is not local or cloud; using cloud',
    ]);
  });

  it('returns credentials the caller may change without changing the constants', () => {
    const settings = s3Settings({});
    settings.credentials!.accessKeyId = 'changed';
    expect(LOCAL_CREDENTIALS.accessKeyId).toBe('observatory-local');
  });
});

describe('sqsSettings', () => {
  it('is the local queue server, with the local credentials, off AWS', () => {
    expect(sqsSettings({})).toEqual({
      endpoint: 'http://127.0.0.1:9324',
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    expect(sqsSettings({ OBSERVATORY_SQS_PORT: '19324' }).endpoint).toBe('http://127.0.0.1:19324');
  });

  it('is AWS’s regional endpoint with the SDK’s credentials on AWS, or when the endpoint is `aws`', () => {
    const cloud = { endpoint: undefined, region: 'eu-west-1', credentials: undefined };
    expect(sqsSettings({ AWS_LAMBDA_FUNCTION_NAME: 'f', AWS_REGION: 'eu-west-1' })).toEqual(cloud);
    expect(sqsSettings({ OBSERVATORY_SQS_ENDPOINT: 'aws', AWS_REGION: 'eu-west-1' })).toEqual(cloud);
  });

  it('uses a configured endpoint, with the local credentials, even on AWS', () => {
    expect(
      sqsSettings({ OBSERVATORY_SQS_ENDPOINT: 'http://queue.test:9324', AWS_LAMBDA_FUNCTION_NAME: 'f' }),
    ).toEqual({
      endpoint: 'http://queue.test:9324',
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
  });
});

describe('shutdownTimeoutMs', () => {
  it('is 5000 by default, at most 60000, with a warning naming the variable', () => {
    const { warnings, warn } = sink();
    expect(shutdownTimeoutMs({}, warn)).toBe(5000);
    expect(shutdownTimeoutMs({ OBSERVATORY_SHUTDOWN_TIMEOUT_MS: '250' }, warn)).toBe(250);
    expect(shutdownTimeoutMs({ OBSERVATORY_SHUTDOWN_TIMEOUT_MS: '90000' }, warn)).toBe(5000);
    expect(warnings).toEqual([
      'OBSERVATORY_SHUTDOWN_TIMEOUT_MS="90000" is not an integer in [0, 60000]; using 5000',
    ]);
  });
});
