/**
 * The ETL's SQS path: the chunk queue (with its dead-letter queue) that workers consume, and the results queue the
 * listener reads outcomes from. Messages carry the whole ChunkEvent, trace context included. Queue names and the
 * endpoint come from the ETL config: the local stack's SQS-compatible server, or real SQS on AWS.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { EtlConfig } from '../config.ts';
import type { FunctionName } from '../types.ts';
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

export function sqsClient(settings: EtlConfig['sqs']): SQSClient {
  return new SQSClient({
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    ...(settings.credentials === undefined ? {} : { credentials: { ...settings.credentials } }),
  });
}

/**
 * Creates the queues if they are missing (CreateQueue is idempotent): the chunk queue redrives to its dead-letter
 * queue after `maxAttempts` receives, so a poison chunk ends there and nothing is lost silently.
 */
export async function ensureQueues(
  client: SQSClient,
  settings: EtlConfig['sqs'],
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
