/** The ETL's one config module (etl/config.ts): defaults, the environment, and bad values reported once. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../common/config.ts';
import { etlConfig } from '../../etl/config.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('etlConfig', () => {
  it('has the documented defaults off AWS', () => {
    const config = etlConfig({});
    expect(config).toMatchObject({
      port: 8084,
      listenHost: '127.0.0.1',
      functionName: 'crop_stats',
      onAws: false,
      region: 'local',
      concurrency: 4,
      timeoutMs: 30_000,
      startTimeoutMs: 30_000,
      idleMs: 60_000,
      maxAttempts: 3,
      retryBaseMs: 200,
      memoryMb: 512,
      semiSpaceMb: 4,
      catalogCacheMs: 60_000,
      maxChunks: 1000,
      flushTimeoutMs: 2000,
      allowFaults: false,
      dispatch: 'fleet',
    });
    expect(config.s3).toMatchObject({ mode: 'local', endpoint: 'http://127.0.0.1:9000' });
    expect(config.sqs).toEqual({
      endpoint: 'http://127.0.0.1:9324',
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      chunkQueue: 'observatory-etl-chunks.fifo',
      resultQueue: 'observatory-etl-results',
      resultQueueUrl: undefined,
      visibilityTimeoutSeconds: 60,
      localConsumer: true,
    });
    expect(config).toMatchObject({ maxWaiting: 2000, busyRetryAfterSeconds: 10, jobTtlMs: 600_000 });
  });

  it('reads each setting from its variable', () => {
    const config = etlConfig({
      OBSERVATORY_ETL_PORT: '0',
      OBSERVATORY_ETL_CONCURRENCY: '2',
      OBSERVATORY_ETL_TIMEOUT_MS: '4000',
      OBSERVATORY_ETL_START_TIMEOUT_MS: '5000',
      OBSERVATORY_ETL_LOCAL_CONSUMER: 'false',
      OBSERVATORY_ETL_RETRY_BASE_MS: '50',
      OBSERVATORY_ETL_MAX_ATTEMPTS: '5',
      OBSERVATORY_ETL_MEMORY_MB: '1024',
      OBSERVATORY_ETL_SEMI_SPACE_MB: '2',
      OBSERVATORY_ETL_CATALOG_CACHE_MS: '0',
      OBSERVATORY_ETL_ALLOW_FAULTS: 'true',
      OBSERVATORY_ETL_DISPATCH: 'sqs',
      OBSERVATORY_ETL_CHUNK_QUEUE: 'chunks-x',
      OBSERVATORY_ETL_RESULT_QUEUE: 'results-x',
      OBSERVATORY_ETL_FUNCTION: 'compaction',
      OBSERVATORY_ETL_PRICE_GB_SECOND: '0.00001',
    });
    expect(config).toMatchObject({
      port: 0,
      concurrency: 2,
      timeoutMs: 4000,
      startTimeoutMs: 5000,
      retryBaseMs: 50,
      maxAttempts: 5,
      memoryMb: 1024,
      semiSpaceMb: 2,
      catalogCacheMs: 0,
      allowFaults: true,
      dispatch: 'sqs',
      functionName: 'compaction',
      pricePerGbSecond: 0.00001,
    });
    expect(config.sqs).toMatchObject({
      chunkQueue: 'chunks-x',
      resultQueue: 'results-x',
      localConsumer: false,
    });
  });

  it('says it runs on AWS, in which region, and uses the cloud store there', () => {
    const config = etlConfig({ AWS_LAMBDA_FUNCTION_NAME: 'crop-stats', AWS_REGION: 'eu-west-1' });
    expect(config).toMatchObject({ onAws: true, region: 'eu-west-1' });
    expect(config.s3).toMatchObject({ mode: 'cloud', endpoint: undefined, credentials: undefined });
    expect(config.sqs.endpoint).toBeUndefined();
    expect(etlConfig({ AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' }).region).toBe('unknown');
  });

  it('falls back on a bad dispatch mode, function name or count, warning once each, naming the variable', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const env = {
      OBSERVATORY_ETL_DISPATCH: 'kafka-unit-test',
      OBSERVATORY_ETL_FUNCTION: 'ndvi-unit-test',
      OBSERVATORY_ETL_CONCURRENCY: '1000',
    };
    const first = etlConfig(env);
    etlConfig(env);
    expect(first).toMatchObject({ dispatch: 'fleet', functionName: 'crop_stats', concurrency: 4 });
    expect(written).toEqual([
      'observatory: OBSERVATORY_ETL_FUNCTION="ndvi-unit-test" is not one of crop_stats, compaction; using crop_stats\n',
      'observatory: OBSERVATORY_ETL_CONCURRENCY="1000" is not an integer in [1, 256]; using 4\n',
      'observatory: OBSERVATORY_ETL_DISPATCH="kafka-unit-test" is not fleet or sqs; using fleet\n',
    ]);
  });
});
