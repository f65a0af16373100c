/**
 * One contract for every way a chunk reaches a worker, run against the real stack in three modes:
 *
 * - `fleet`: the listener invokes its local sandboxes directly;
 * - `sqs`: chunks travel through ElasticMQ and the listener's own event source feeds its sandboxes;
 * - `lambda`: the AWS path proven from the artifact — the listener in SQS mode, and the built Lambda zip
 *   (`npm run build:lambda`) the chunk queue's only consumer, invoked with the real SQS event (`Records[]` with body,
 *   messageId, receiptHandle, attributes.ApproximateReceiveCount, eventSourceARN) by a stand-in for Lambda's event
 *   source mapping (test/support/event-source-mapping.ts) configured from deploy/aws/etl/template.yaml: its batch
 *   size, partial batch responses, the queue's redrive policy, and the function's environment and handler.
 *
 * In each: a crop-statistics job and a compaction job end `done`, each one trace holding every chunk; compaction
 * chunks of one signal run one at a time (on the queue paths because the FIFO chunk queue groups them); a poison chunk
 * and a chunk whose invocation is killed every time are dead-lettered (in the queue's dead-letter queue, where there
 * is a queue) and the job ends `partial`; a body that is no chunk message ends in the dead-letter queue and stops
 * nothing.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../common/config.ts';
import { buildLambdaArtifact } from '../../deploy/aws/etl/build.ts';
import { etlConfig } from '../../etl/config.ts';
import type { JobView } from '../../etl/listener/jobs.ts';
import { deadLetterQueueName, sqsClient } from '../../etl/sqs/queues.ts';
import { findObjectContaining, putObject, stackEndpoints, tag } from '../support/backends.ts';
import { jobTrace, startListener, type TestListener } from '../support/etl.ts';
import { EventSourceMapping } from '../support/event-source-mapping.ts';
import {
  etlTemplate,
  functionEnvironment,
  resolveValue,
  sqsMapping,
  unzipArtifact,
  workerFunction,
} from '../support/lambda-template.ts';
import { pollUntil } from '../support/poll.ts';
import { find, tree, type Node } from '../support/trace-tree.ts';

type Mode = 'fleet' | 'sqs' | 'lambda';

/**
 * The Lambda function's timeout here (a value of the template's WorkerTimeoutSeconds parameter), and the chunk
 * queue's visibility timeout, as short as Lambda allows (not below the function timeout): every failed attempt
 * waits it out, and the chunk deadline is it × the attempts.
 */
const LAMBDA_TIMEOUT_S = 8;

/** What differs by mode: how a killed invocation's dead letter reads. */
const KILLED: Record<Mode, RegExp> = {
  fleet: /^SandboxFailure: sandbox exited mid-invocation \(SIGKILL\)$/,
  sqs: /^SandboxFailure: sandbox exited mid-invocation \(SIGKILL\)$/,
  // A killed Lambda reports nothing: the chunk fails when its deadline passes.
  lambda: /^ChunkDeadline: no final result within 24 s/,
};

interface Harness {
  listener: TestListener;
  /** The chunk queue and its dead-letter queue (queue modes). */
  queues?: { client: SQSClient; chunks: string; deadLetter: string };
  mapping?: EventSourceMapping;
  stop(): Promise<void>;
}

describe.each<Mode>(['fleet', 'sqs', 'lambda'])('The ETL contract, chunks dispatched by %s', (mode) => {
  let harness: Harness;
  const runJob = (spec: Record<string, unknown>) => harness.listener.runJob(spec);

  beforeAll(async () => {
    harness = await start(mode);
  }, 180_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it('ends a crop-statistics job done, one trace holding every chunk and its invocation', async () => {
    // 2 tiles × 2 days.
    const job = await runJob({ bbox: [0, 40, 10, 45], from: '2026-07-01', to: '2026-07-02' });
    expect(job.status, harness.mapping?.output()).toBe('done');
    expect(job.chunks).toMatchObject({ total: 4, done: 4, failed: 0, in_flight: 0 });
    const chunks = chunkNodes(job, await jobTrace(job));
    expect(chunks.map((c) => tag(c.span, 'etl.chunk.index')).sort()).toEqual([0, 1, 2, 3]);
    for (const chunk of chunks) {
      const [invocation, ...more] = invocationsOf(chunk, 'crop_stats');
      expect(more).toEqual([]);
      expect(invocation!.service).toBe('etl-worker');
      expect(tag(invocation!.span, 'faas.trigger')).toBe('pubsub');
      expect(tag(invocation!.span, 'cloud.provider')).toBe(mode === 'lambda' ? 'aws' : 'local');
      expect(tag(invocation!.span, 'etl.job.id')).toBe(job.id);
    }
  });

  it('ends a compaction job done, its first chunk retried after a fault, one trace holding every chunk and its invocations', async () => {
    // Events of a job of its own in the raw zone first, so that there is something to compact.
    const crop = await runJob({ bbox: [10, 50, 15, 55], from: '2026-07-03', to: '2026-07-03' });
    expect(crop.status).toBe('done');
    await findObjectContaining('raw/events/', crop.id, 30_000);
    const job = await runJob({
      kind: 'compaction',
      batch_size: 50,
      signals: ['events'],
      fault: { chunks: [0], kind: 'throw', attempts: 1 },
    });
    expect(job.status, harness.mapping?.output()).toBe('done');
    expect(job.chunks.total).toBeGreaterThan(0);
    expect(job.chunks).toMatchObject({ done: job.chunks.total, failed: 0, retried: 1 });
    const chunks = chunkNodes(job, await jobTrace(job));
    expect(chunks).toHaveLength(job.chunks.total);
    for (const chunk of chunks) {
      const index = tag(chunk.span, 'etl.chunk.index');
      const attempts = invocationsOf(chunk, 'compaction');
      // The first chunk's first attempt failed (the fault comes before the handler); its second compacted.
      expect(
        attempts.map((i) => tag(i.span, 'etl.attempt')),
        `chunk ${String(index)}`,
      ).toEqual(index === 0 ? [1, 2] : [1]);
      // The attempt that succeeded went through its objects: compacted them, or found them compacted already — by
      // another compaction on the shared stack while a retry waited out the queue's visibility timeout.
      const last = attempts.at(-1)!.span;
      expect(
        Number(tag(last, 'lake.objects')) + Number(tag(last, 'lake.skipped')),
        `chunk ${String(index)}`,
      ).toBeGreaterThan(0);
    }
  }, 120_000);

  it('runs the compaction chunks of one signal one at a time', async () => {
    const crop = await runJob({ bbox: [15, 45, 20, 50], from: '2026-07-09', to: '2026-07-09' });
    expect(crop.status).toBe('done');
    const { key, text } = await findObjectContaining('raw/events/', crop.id, 30_000);
    // Two more raw objects in the same arrival hour (copies: compaction keeps one row per event ID), so that the job
    // plans several chunks of one signal even when another compaction on the shared stack took the first meanwhile.
    const folder = key.slice(0, key.lastIndexOf('/') + 1);
    for (let i = 0; i < 2; i++) await putObject(`${folder}contract-copy-${randomUUID()}.json`, text);
    const job = await runJob({ kind: 'compaction', batch_size: 1, signals: ['events'] });
    expect(job.status, harness.mapping?.output()).toBe('done');
    expect(job.chunks.total).toBeGreaterThanOrEqual(2);
    const invocations = chunkNodes(job, await jobTrace(job))
      .flatMap((chunk) => invocationsOf(chunk, 'compaction'))
      .map((i) => i.span as unknown as { startTime: number; duration: number })
      .sort((a, b) => a.startTime - b.startTime);
    expect(invocations).toHaveLength(job.chunks.total);
    // Each starts after the one before it ended (Jaeger's times are in microseconds).
    for (let i = 1; i < invocations.length; i++) {
      const before = invocations[i - 1]!;
      expect(invocations[i]!.startTime, `invocation ${i} of ${invocations.length}`).toBeGreaterThanOrEqual(
        before.startTime + before.duration,
      );
    }
  }, 180_000);

  it('dead-letters a poison chunk after every attempt failed and ends the job partial', async () => {
    const job = await runJob({
      bbox: [0, 40, 5, 45],
      from: '2026-07-04',
      to: '2026-07-05',
      fault: { chunks: [1], kind: 'throw', attempts: 99 },
    });
    expect(job.status).toBe('partial');
    expect(job.chunks).toMatchObject({ total: 2, done: 1, failed: 1, retried: 2 });
    expect(job.dead_letters).toEqual([
      { chunk_index: 1, attempts: 3, error: 'Error: injected fault: chunk 1 attempt 3' },
    ]);
    const [poison] = chunkNodes(job, await jobTrace(job)).filter((c) => tag(c.span, 'etl.chunk.index') === 1);
    expect(tag(poison!.span, 'error')).toBe(true);
    expect(invocationsOf(poison!, 'crop_stats').map((i) => tag(i.span, 'etl.attempt'))).toEqual([1, 2, 3]);
    if (harness.queues) expect((await deadLettered(harness, job.id)).chunk_index).toBe(1);
  }, 120_000);

  it('dead-letters a chunk whose invocation is killed every time and ends the job partial', async () => {
    const job = await runJob({
      bbox: [0, 40, 5, 45],
      from: '2026-07-06',
      to: '2026-07-07',
      fault: { chunks: [0], kind: 'crash', attempts: 99 },
    });
    expect(job.status, harness.mapping?.output()).toBe('partial');
    expect(job.chunks).toMatchObject({ total: 2, done: 1, failed: 1 });
    expect(job.dead_letters.map((d) => d.chunk_index)).toEqual([0]);
    expect(job.dead_letters[0]!.error).toMatch(KILLED[mode]);
    const [killed] = chunkNodes(job, await jobTrace(job)).filter((c) => tag(c.span, 'etl.chunk.index') === 0);
    expect(tag(killed!.span, 'error')).toBe(true);
    if (harness.queues) expect((await deadLettered(harness, job.id)).chunk_index).toBe(0);
  }, 120_000);

  if (mode !== 'fleet') {
    it('moves a body that is no chunk message to the dead-letter queue, and goes on with the jobs', async () => {
      const { client, chunks } = harness.queues!;
      const body = `not a chunk message ${randomUUID()}`;
      const failedBefore = harness.mapping?.stats.failedInvocations;
      // What anyone with send rights can put on the FIFO queue: a group and a deduplication ID, and any body.
      await client.send(
        new SendMessageCommand({
          QueueUrl: chunks,
          MessageBody: body,
          MessageGroupId: 'anyone',
          MessageDeduplicationId: randomUUID(),
        }),
      );
      const job = await runJob({ bbox: [20, 55, 25, 60], from: '2026-07-08', to: '2026-07-08' });
      expect(job.status).toBe('done');
      await pollUntil(
        'the malformed body in the dead-letter queue',
        async () => ((await deadLetters(harness)).some((m) => m.Body === body) ? true : undefined),
        // On Lambda it is a batch item failure at each of the receives the redrive policy allows.
        { timeoutMs: 90_000 },
      );
      // Batch item failures, never a failed invocation that would return healthy records too.
      if (harness.mapping) expect(harness.mapping.stats.failedInvocations).toBe(failedBefore);
    }, 150_000);
  }
});

/** The job's per-chunk producer spans, under its job span. */
function chunkNodes(job: JobView, trace: Parameters<typeof tree>[0]): Node[] {
  const root = find(tree(trace), (n) => n.name === `etl.job ${job.kind}`)[0]!;
  expect(tag(root.span, 'etl.job.id')).toBe(job.id);
  return find([root], (n) => n.kind === 'producer' && n.name === `etl.chunk ${job.kind}`);
}

const invocationsOf = (chunk: Node, functionName: string) =>
  chunk.children.filter((c) => c.name === `${functionName} invoke`);

/** What the dead-letter queue holds now, left visible for the next look. */
async function deadLetters(harness: Harness) {
  const { client, deadLetter } = harness.queues!;
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: deadLetter,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: 0,
    }),
  );
  return Messages;
}

/** The job's chunk event in the dead-letter queue. */
async function deadLettered(harness: Harness, jobId: string) {
  return pollUntil(
    `a chunk of ${jobId} in the dead-letter queue`,
    async () => {
      for (const message of await deadLetters(harness)) {
        try {
          const { event } = JSON.parse(message.Body!) as { event?: { job_id: string; chunk_index: number } };
          if (event?.job_id === jobId) return event;
        } catch {
          // Another test's malformed body.
        }
      }
      return undefined;
    },
    { timeoutMs: 60_000 },
  );
}

async function start(mode: Mode): Promise<Harness> {
  const common = { OBSERVATORY_ETL_CONCURRENCY: '2', OBSERVATORY_ETL_TIMEOUT_MS: '8000' };
  if (mode === 'fleet') {
    const listener = await startListener({ ...common, OBSERVATORY_ETL_RETRY_BASE_MS: '50' });
    return { listener, stop: () => listener.stop() };
  }
  // A FIFO queue, as the template's and the default configuration's chunk queue is.
  expect(sqsMapping().fifo).toBe(true);
  const name = `etl-contract-${mode}-${randomUUID().slice(0, 8)}`;
  const queue = `${name}.fifo`;
  const sqs = {
    OBSERVATORY_ETL_DISPATCH: 'sqs',
    OBSERVATORY_ETL_CHUNK_QUEUE: queue,
    OBSERVATORY_ETL_RESULT_QUEUE: `${name}-results`,
  };
  if (mode === 'sqs') {
    const listener = await startListener({ ...common, ...sqs, OBSERVATORY_ETL_RETRY_BASE_MS: '200' });
    return { listener, queues: await queueUrls(queue), stop: () => listener.stop() };
  }
  return startLambda(queue, sqs);
}

async function queueUrls(queue: string) {
  const client = sqsClient(etlConfig().sqs);
  const url = async (name: string) =>
    (await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  return { client, chunks: await url(queue), deadLetter: await url(deadLetterQueueName(queue)) };
}

/**
 * The listener leaves the chunk queue to the Lambda artifact: built and unzipped here, run with the template's
 * environment and handler under the event source mapping the template configures.
 */
async function startLambda(queue: string, sqs: Record<string, string>): Promise<Harness> {
  const template = etlTemplate();
  const mapping = sqsMapping(template);
  const worker = workerFunction(template);
  const maxAttempts = resolveValue(template, worker.Environment!.Variables.OBSERVATORY_ETL_MAX_ATTEMPTS);
  // The worker marks its last attempt final exactly when the queue's redrive policy makes it the last receive.
  expect(Number(maxAttempts)).toBe(mapping.maxReceiveCount);
  expect(mapping.reportBatchItemFailures).toBe(true);
  const timeout = template.Parameters.WorkerTimeoutSeconds!;
  expect(LAMBDA_TIMEOUT_S).toBeGreaterThanOrEqual(timeout.MinValue!);
  expect(timeout.MaxValue).toBeLessThanOrEqual(mapping.visibilityTimeoutSeconds);

  const listener = await startListener({
    ...sqs,
    OBSERVATORY_ETL_LOCAL_CONSUMER: 'false',
    OBSERVATORY_ETL_MAX_ATTEMPTS: String(mapping.maxReceiveCount),
    OBSERVATORY_ETL_VISIBILITY_TIMEOUT_S: String(LAMBDA_TIMEOUT_S),
  });
  const dir = mkdtempSync(join(tmpdir(), 'observatory-contract-'));
  const taskRoot = join(dir, 'task');
  const artifact = await buildLambdaArtifact(join(dir, 'out'));
  unzipArtifact(artifact.zipPath, taskRoot);
  const queues = await queueUrls(queue);
  const results = (
    await queues.client.send(new GetQueueUrlCommand({ QueueName: sqs.OBSERVATORY_ETL_RESULT_QUEUE }))
  ).QueueUrl!;
  const settings = etlConfig();
  const functionName = `observatory-etl-worker-contract`;
  const env = {
    PATH: process.env.PATH!,
    HOME: process.env.HOME!,
    ...functionEnvironment(
      {
        Stage: 'contract',
        CollectorGatewayEndpoint: 'https://gateway.invalid:4318',
        CollectorGatewayTokenSecretArn:
          'arn:aws:secretsmanager:us-east-1:000000000000:secret:observatory/gateway-token',
        LakeBucket: settings.s3.bucket,
        ResultQueue: results,
      },
      template,
    ),
    // The local Collector stands in for the collector layer on localhost:4318.
    OTEL_EXPORTER_OTLP_ENDPOINT: stackEndpoints().otlpHttp,
    // Only tests make a Lambda obey a chunk's fault.
    OBSERVATORY_ETL_ALLOW_FAULTS: 'true',
    // What the Lambda service sets in every execution environment.
    _HANDLER: worker.Handler!,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: resolveValue(template, template.Globals.Function.MemorySize),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    // Local stand-ins for S3 and SQS (on AWS the SDK's regional endpoints).
    OBSERVATORY_S3_ENDPOINT: settings.s3.endpoint!,
    OBSERVATORY_SQS_ENDPOINT: settings.sqs.endpoint!,
  };
  const esm = new EventSourceMapping({
    client: queues.client,
    queueUrl: queues.chunks,
    batchSize: mapping.batchSize,
    reportBatchItemFailures: mapping.reportBatchItemFailures,
    // Reserved concurrency sized to this machine's two cores, not the template's default.
    concurrency: 2,
    timeoutSeconds: LAMBDA_TIMEOUT_S,
    taskRoot,
    env,
  });
  await esm.start();
  return {
    listener,
    queues,
    mapping: esm,
    async stop() {
      await listener.stop();
      await esm.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
