/**
 * The ETL worker's Lambda artifact really deploys: the build (deploy/aws/etl/build.ts) makes a zip under the size
 * budget that holds every path deploy/aws/etl/template.yaml points at; unzipped into a temporary folder, it runs the
 * way the Lambda runtime runs it — the template's environment (NODE_OPTIONS loads the preload from the zip), the
 * runtime's bootstrap resolving `Handler`, an SQS batch event made from a message received from the local
 * SQS-compatible queue — against the local S3 store; the invocation's spans reach the local Collector and appear in
 * Jaeger under the job's trace, as children of the listener's producer span.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { LOCAL_CREDENTIALS } from '../../common/config.ts';
import { ATTRIBUTES, SEMCONV } from '../../common/names.ts';
import { S3Store } from '../../common/s3-store.ts';
import { buildLambdaArtifact, SIZE_BUDGET_BYTES, type LambdaArtifact } from '../../deploy/aws/etl/build.ts';
import { etlConfig } from '../../etl/config.ts';
import { resultKey } from '../../etl/handlers/crop-stats.ts';
import { sqsClient, type ChunkMessage, type ResultMessage } from '../../etl/sqs/queues.ts';
import { days, seed, tiles } from '../../imagery/scenes.ts';
import { demoConfig } from '../../services/config.ts';
import { fetchTrace, readObject, stackEndpoints, tag } from '../support/backends.ts';
import {
  etlTemplate,
  functionEnvironment as templateEnvironment,
  unzipArtifact,
  workerFunction,
} from '../support/lambda-template.ts';

const run = promisify(execFile);

const template = etlTemplate;
const worker = () => workerFunction();

const dir = mkdtempSync(join(tmpdir(), 'observatory-lambda-'));
const taskRoot = join(dir, 'task');
let artifact: LambdaArtifact;

beforeAll(async () => {
  artifact = await buildLambdaArtifact(join(dir, 'out'));
  unzipArtifact(artifact.zipPath, taskRoot);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the ETL worker Lambda artifact', () => {
  it('is a zip within the size budget', () => {
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
    console.log(
      `Lambda artifact: ${mb(artifact.zippedBytes)} zipped, ${mb(artifact.unzippedBytes)} unzipped, ` +
        `${artifact.files.length} files (budget ${mb(SIZE_BUDGET_BYTES)} zipped)`,
    );
    expect(statSync(artifact.zipPath).size).toBe(artifact.zippedBytes);
    expect(artifact.zippedBytes).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);
  });

  it('holds every path the template points at: handler, preload, its run-time packages, the Collector config', () => {
    const env = templateEnvironment({
      Stage: 'x',
      CollectorGatewayEndpoint: 'x',
      CollectorGatewayTokenSecretArn: 'x',
      LakeBucket: 'x',
      ResultQueue: 'x',
    });
    const handler = worker().Handler!;
    const handlerModule = handler.slice(0, handler.lastIndexOf('.'));
    expect(artifact.files).toContain(`${handlerModule}.js`);
    // `--require ./instrumentation` resolves a folder to its index.js; a "type: module" package.json makes it ESM.
    const preload = /--require \.\/(\S+)/.exec(env.NODE_OPTIONS!)![1]!;
    expect(artifact.files).toContain(`${preload}/index.js`);
    expect(JSON.parse(readFileSync(join(taskRoot, 'package.json'), 'utf8'))).toMatchObject({
      type: 'module',
    });
    expect(artifact.files).toContain(env.OPENTELEMETRY_COLLECTOR_CONFIG_URI!.replace(/^\/var\/task\//, ''));
    // The compaction's staging worker thread loads a module of its own.
    expect(artifact.files).toContain('lake/staging.js');
    for (const pkg of ['pino', 'import-in-the-middle', '@duckdb/node-bindings'])
      expect(artifact.files).toContain(`node_modules/${pkg}/package.json`);
    // The template deploys this very zip.
    expect(worker().CodeUri).toBe('../../../dist/lambda/etl-worker.zip');
  });

  it('keeps the gateway token out of the environment: only a Secrets Manager ARN, readable by the function', () => {
    const variables = {
      ...template().Globals.Function.Environment.Variables,
      ...worker().Environment!.Variables,
    };
    expect(Object.keys(variables)).not.toContain('OBSERVATORY_GATEWAY_TOKEN');
    expect(variables.OBSERVATORY_GATEWAY_TOKEN_SECRET_ARN).toEqual({ Ref: 'CollectorGatewayTokenSecretArn' });
    expect(worker().Policies).toContainEqual({
      AWSSecretsManagerGetSecretValuePolicy: { SecretArn: { Ref: 'CollectorGatewayTokenSecretArn' } },
    });
    const collector = readFileSync(join(taskRoot, 'deploy', 'aws', 'etl', 'lambda-collector.yaml'), 'utf8');
    expect(collector).toContain('Bearer ${secretsmanager:${env:OBSERVATORY_GATEWAY_TOKEN_SECRET_ARN}}');
  });

  it('runs from its unzipped copy as Lambda runs it, and its spans join the job trace in Jaeger', async () => {
    const demo = demoConfig();
    await seed(S3Store.fromSettings(demo.s3));
    const sqs = sqsClient(etlConfig().sqs);
    const suffix = Date.now();
    const chunkQueue = (await sqs.send(new CreateQueueCommand({ QueueName: `lambda-chunks-${suffix}` })))
      .QueueUrl!;
    const resultsUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `lambda-results-${suffix}` })))
      .QueueUrl!;

    // The listener's side of the job trace: the job span and the chunk's producer span, sent to the Collector.
    const traceId = randomBytes(16).toString('hex');
    const jobSpanId = randomBytes(8).toString('hex');
    const producerSpanId = randomBytes(8).toString('hex');
    const jobId = `job-lambda-${suffix}`;
    const { otlpHttp, jaeger } = stackEndpoints();
    await sendListenerSpans(otlpHttp, { traceId, jobSpanId, producerSpanId, jobId });

    // The chunk travels through the real queue, as the listener's SqsDispatcher sends it; Lambda's event source
    // mapping turns received messages into a batch.
    const message: ChunkMessage = {
      function: 'crop_stats',
      event: {
        job_id: jobId,
        kind: 'crop_stats',
        chunk_index: 0,
        chunk_count: 1,
        attempt: 1,
        payload: { tile: tiles()[0], date: days()[0] },
        trace: { traceparent: `00-${traceId}-${producerSpanId}-01` },
      },
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: chunkQueue, MessageBody: JSON.stringify(message) }));
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: chunkQueue,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    expect(Messages).toHaveLength(1);
    const event = {
      Records: Messages.map((m) => ({
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body,
        attributes: m.Attributes,
        messageAttributes: {},
        md5OfBody: m.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:lambda-chunks-${suffix}`,
        awsRegion: 'us-east-1',
      })),
    };
    const eventFile = join(dir, 'event.json');
    writeFileSync(eventFile, JSON.stringify(event));

    const functionEnv = templateEnvironment({
      Stage: 'lambda-test',
      CollectorGatewayEndpoint: 'https://gateway.invalid:4318',
      CollectorGatewayTokenSecretArn:
        'arn:aws:secretsmanager:us-east-1:000000000000:secret:observatory/gateway-token',
      LakeBucket: demo.s3.bucket,
      ResultQueue: resultsUrl,
    });
    // On Lambda the collector layer listens on localhost:4318 (the template's OTEL_EXPORTER_OTLP_ENDPOINT); here the
    // local Collector stands in for it.
    expect(functionEnv.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://localhost:4318');
    const { stdout, stderr } = await run(
      process.execPath,
      [join(REPO_ROOT, 'test', 'support', 'lambda-runtime.ts'), eventFile],
      {
        cwd: taskRoot,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...functionEnv,
          OTEL_EXPORTER_OTLP_ENDPOINT: otlpHttp,
          // What the Lambda service sets in every sandbox.
          LAMBDA_TASK_ROOT: taskRoot,
          _HANDLER: worker().Handler!,
          AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
          AWS_LAMBDA_FUNCTION_NAME: 'crop_stats',
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
          // Local stand-ins for S3 and SQS (on AWS the SDK's regional endpoints).
          OBSERVATORY_S3_ENDPOINT: demo.s3.endpoint!,
          OBSERVATORY_SQS_ENDPOINT: etlConfig().sqs.endpoint!,
        },
      },
    );
    const outcome = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      ok: boolean;
      requestId: string;
      result: unknown;
    };
    expect(outcome, stderr).toMatchObject({ ok: true, result: { batchItemFailures: [] } });

    // The handler's work: the chunk's row in the lake and its outcome on the results queue.
    expect(JSON.parse(await readObject(resultKey(jobId, 0)))).toMatchObject({
      job_id: jobId,
      tile_id: 'T00',
    });
    const results = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: resultsUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
    );
    const reported = (results.Messages ?? []).map((m) => JSON.parse(m.Body!) as ResultMessage);
    expect(reported.map((r) => [r.job_id, r.chunk_index, r.attempt, r.final, r.result.ok])).toEqual([
      [jobId, 0, 1, true, true],
    ]);

    // Its telemetry: the invocation span under the producer span, from the preload loaded out of the zip.
    const trace = await fetchTrace(traceId, (t) =>
      t.spans.some((s) => s.operationName === 'crop_stats invoke' && s.references.length > 0),
    );
    const invoke = trace.spans.find((s) => s.operationName === 'crop_stats invoke')!;
    expect(invoke.references[0]).toMatchObject({ refType: 'CHILD_OF', spanID: producerSpanId });
    expect(trace.processes[invoke.processID]!.serviceName).toBe('etl-worker');
    expect(tag(invoke, SEMCONV.faasInvocationId)).toBe(outcome.requestId);
    expect(tag(invoke, SEMCONV.cloudProvider)).toBe('aws');
    expect(tag(invoke, ATTRIBUTES.jobId)).toBe(jobId);
    const services = new Set(trace.spans.map((s) => trace.processes[s.processID]!.serviceName));
    expect([...services].sort()).toEqual(['etl-listener', 'etl-worker']);
    // The S3 reads and writes inside the invocation are its children (the preload patched http in the bundle).
    const children = trace.spans.filter((s) => s.references.some((r) => r.spanID === invoke.spanID));
    expect(children.length).toBeGreaterThan(0);
    console.log(
      `Lambda artifact run: trace ${traceId} in ${jaeger}: ${trace.spans.length} spans, invocation children: ` +
        children.map((s) => s.operationName).join(', '),
    );
  });
});

async function sendListenerSpans(
  otlpHttp: string,
  ids: { traceId: string; jobSpanId: string; producerSpanId: string; jobId: string },
): Promise<void> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const span = (spanId: string, name: string, kind: number, parentSpanId?: string) => ({
    traceId: ids.traceId,
    spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name,
    kind,
    startTimeUnixNano: String(now),
    endTimeUnixNano: String(now + 5_000_000n),
    attributes: [{ key: 'etl.job.id', value: { stringValue: ids.jobId } }],
  });
  const response = await fetch(`${otlpHttp}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'etl-listener' } }] },
          scopeSpans: [
            {
              spans: [
                span(ids.jobSpanId, 'etl.job crop_stats', 1),
                span(ids.producerSpanId, 'etl.chunk crop_stats', 4, ids.jobSpanId),
              ],
            },
          ],
        },
      ],
    }),
  });
  expect(response.status).toBe(200);
}
