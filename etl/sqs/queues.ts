/**
 * The ETL's SQS path: the chunk queue (with its dead-letter queue) that workers consume, and the results queue the
 * listener reads outcomes from. Messages carry the whole ChunkEvent, trace context included. Queue names and the
 * endpoint come from the environment: the local stack's SQS-compatible server, or real SQS on AWS.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { readString, type Env } from '../../instrumentation/src/env.ts';
import { stackConfig } from '../../cli/stack/config.ts';
import type { FunctionName } from '../handlers/index.ts';
import type { ChunkEvent, InvocationResult } from '../types.ts';

export interface ChunkMessage {
  function: FunctionName;
  event: ChunkEvent;
}

/** One attempt's outcome; `final` when no attempt follows (success, or the last receive before the DLQ). */
export interface ResultMessage {
  job_id: string;
  chunk_index: number;
  attempt: number;
  final: boolean;
  result: InvocationResult;
}

export interface QueueUrls {
  chunks: string;
  deadLetter: string;
  results: string;
}

export interface SqsSettings {
  /** The SQS endpoint; undefined on AWS (the SDK's regional endpoint). */
  endpoint: string | undefined;
  region: string;
  chunkQueue: string;
  resultQueue: string;
}

export function sqsSettings(env: Env = process.env): SqsSettings {
  const stack = stackConfig(env);
  const onAws =
    env.AWS_LAMBDA_FUNCTION_NAME !== undefined || readString(env, 'OBSERVATORY_SQS_ENDPOINT') === 'aws';
  return {
    endpoint: onAws
      ? undefined
      : (readString(env, 'OBSERVATORY_SQS_ENDPOINT') ?? `http://127.0.0.1:${stack.sqs.port}`),
    region: readString(env, 'AWS_REGION') ?? stack.sqs.region,
    chunkQueue: readString(env, 'OBSERVATORY_ETL_CHUNK_QUEUE') ?? 'observatory-etl-chunks',
    resultQueue: readString(env, 'OBSERVATORY_ETL_RESULT_QUEUE') ?? 'observatory-etl-results',
  };
}

export function sqsClient(settings: SqsSettings): SQSClient {
  return settings.endpoint === undefined
    ? new SQSClient({ region: settings.region })
    : new SQSClient({
        endpoint: settings.endpoint,
        region: settings.region,
        // The local server checks no signatures; the SDK still wants credentials.
        credentials: { accessKeyId: 'observatory-local', secretAccessKey: 'observatory-local-secret' },
      });
}

/**
 * Creates the queues if they are missing (CreateQueue is idempotent): the chunk queue redrives to its dead-letter
 * queue after `maxAttempts` receives, so a poison chunk ends there and nothing is lost silently.
 */
export async function ensureQueues(
  client: SQSClient,
  settings: SqsSettings,
  maxAttempts: number,
): Promise<QueueUrls> {
  if (settings.endpoint === undefined) {
    // On AWS the queues are the template's (deploy/aws/etl/template.yaml): look them up, never redefine them.
    const url = async (name: string) =>
      (await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    return {
      chunks: await url(settings.chunkQueue),
      deadLetter: await url(`${settings.chunkQueue}-dlq`),
      results: await url(settings.resultQueue),
    };
  }
  const deadLetter = (await client.send(new CreateQueueCommand({ QueueName: `${settings.chunkQueue}-dlq` })))
    .QueueUrl!;
  const dlqArn = (
    await client.send(new GetQueueAttributesCommand({ QueueUrl: deadLetter, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  const chunks = (
    await client.send(
      new CreateQueueCommand({
        QueueName: settings.chunkQueue,
        Attributes: {
          VisibilityTimeout: '60',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: maxAttempts }),
        },
      }),
    )
  ).QueueUrl!;
  const results = (await client.send(new CreateQueueCommand({ QueueName: settings.resultQueue }))).QueueUrl!;
  return { chunks, deadLetter, results };
}

/** Sends one attempt's outcome to the results queue (the worker side: the local event source, or the Lambda). */
export async function reportResult(
  client: SQSClient,
  resultsUrl: string,
  message: ResultMessage,
): Promise<void> {
  await client.send(new SendMessageCommand({ QueueUrl: resultsUrl, MessageBody: JSON.stringify(message) }));
}
