/**
 * The ETL's SQS path: the chunk queue (with its dead-letter queue) that workers consume, and the results queue the
 * listener reads outcomes from. Messages carry the whole ChunkEvent, trace context included. Queue names and the
 * endpoint come from the ETL config: the local stack's SQS-compatible server, or real SQS on AWS.
 *
 * The chunk queue is a FIFO queue (its name ends in `.fifo`) so that the queue, not the consumer, says which chunks
 * may run side by side: SQS hands out a message group's next message only when the one before it is done, and
 * Lambda's event source mapping scales with the number of groups. Every chunk is a group of its own, except that
 * compaction chunks of one signal share one group — two compactions of the same signal never write the same
 * partition at once, on Lambda as in the local fleet's one compaction sandbox. A standard queue (a name without
 * `.fifo`) still works, without that guarantee.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { EtlConfig } from '../config.ts';
import { FUNCTION_NAMES, type FunctionName } from '../types.ts';
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

/** Whether a queue (name or URL) is a FIFO queue: SQS requires FIFO queue names to end in `.fifo`. */
export function isFifoQueue(nameOrUrl: string): boolean {
  return nameOrUrl.endsWith('.fifo');
}

/** The chunk queue's dead-letter queue: `<name>-dlq`, or `<name>-dlq.fifo` for a FIFO queue (it must be FIFO too). */
export function deadLetterQueueName(chunkQueue: string): string {
  return isFifoQueue(chunkQueue) ? `${chunkQueue.slice(0, -'.fifo'.length)}-dlq.fifo` : `${chunkQueue}-dlq`;
}

/**
 * A chunk message's FIFO message group: compaction chunks of one signal run one at a time (they may write the same
 * curated partitions); every other chunk is a group of its own, free to run beside any other.
 */
export function messageGroup(message: ChunkMessage): string {
  const { event } = message;
  if (message.function === 'compaction') {
    const { signal } = (event.payload ?? {}) as { signal?: unknown };
    return `compaction/${typeof signal === 'string' ? signal : 'all'}`;
  }
  return `${event.job_id}/${event.chunk_index}`;
}

/**
 * What a chunk message is sent with: for a FIFO queue, its group and a deduplication ID (one message per chunk: a
 * send the SDK retries after a lost response is not delivered twice).
 */
export function chunkMessageAttributes(
  queueUrl: string,
  message: ChunkMessage,
): { MessageGroupId?: string; MessageDeduplicationId?: string } {
  if (!isFifoQueue(queueUrl)) return {};
  return {
    MessageGroupId: messageGroup(message),
    MessageDeduplicationId: `${message.event.job_id}/${message.event.chunk_index}`,
  };
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
): Promise<QueueUrls & { visibilityTimeoutSeconds: number }> {
  const visibility = String(settings.visibilityTimeoutSeconds);
  if (settings.endpoint === undefined) {
    // On AWS the queues are the template's (deploy/aws/etl/template.yaml): look them up, never redefine them, and
    // take the chunk queue's own visibility timeout (the chunk deadline is built on it).
    const url = async (name: string) =>
      (await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    const chunks = await url(settings.chunkQueue);
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: chunks, AttributeNames: ['VisibilityTimeout'] }),
    );
    return {
      chunks,
      deadLetter: await url(deadLetterQueueName(settings.chunkQueue)),
      results: await url(settings.resultQueue),
      visibilityTimeoutSeconds: Number(Attributes?.VisibilityTimeout ?? settings.visibilityTimeoutSeconds),
    };
  }
  const fifo = isFifoQueue(settings.chunkQueue) ? { FifoQueue: 'true' } : {};
  const deadLetter = (
    await client.send(
      new CreateQueueCommand({ QueueName: deadLetterQueueName(settings.chunkQueue), Attributes: fifo }),
    )
  ).QueueUrl!;
  const dlqArn = (
    await client.send(new GetQueueAttributesCommand({ QueueUrl: deadLetter, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  const chunks = (
    await client.send(
      new CreateQueueCommand({
        QueueName: settings.chunkQueue,
        Attributes: {
          ...fifo,
          VisibilityTimeout: visibility,
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: maxAttempts }),
        },
      }),
    )
  ).QueueUrl!;
  const results = (
    await client.send(
      new CreateQueueCommand({
        QueueName: settings.resultQueue,
        Attributes: { VisibilityTimeout: visibility },
      }),
    )
  ).QueueUrl!;
  return { chunks, deadLetter, results, visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds };
}

/** Sends one attempt's outcome to the results queue (the worker side: the local event source, or the Lambda). */
export async function reportResult(
  client: SQSClient,
  resultsUrl: string,
  message: ResultMessage,
): Promise<void> {
  await client.send(new SendMessageCommand({ QueueUrl: resultsUrl, MessageBody: JSON.stringify(message) }));
}

/** The chunk message in a queue body, or why it is not one (the body comes from whoever can write to the queue). */
export function parseChunkMessage(body: string | undefined): ChunkMessage | string {
  const value = parseJson(body);
  if (typeof value === 'string') return value;
  const { function: name, event } = value as Partial<ChunkMessage>;
  if (!(FUNCTION_NAMES as readonly unknown[]).includes(name))
    return `function: expected one of ${FUNCTION_NAMES.join(', ')}, got ${JSON.stringify(name)}`;
  if (typeof event !== 'object' || event === null) return 'event: expected an object';
  if (typeof event.job_id !== 'string' || event.job_id === '')
    return 'event.job_id: expected a non-empty string';
  if (!Number.isInteger(event.chunk_index) || event.chunk_index < 0)
    return 'event.chunk_index: expected a whole number ≥ 0';
  if (typeof event.trace !== 'object' || event.trace === null) return 'event.trace: expected an object';
  return value as ChunkMessage;
}

/** The result message in a queue body, or why it is not one. */
export function parseResultMessage(body: string | undefined): ResultMessage | string {
  const value = parseJson(body);
  if (typeof value === 'string') return value;
  const message = value as Partial<ResultMessage>;
  if (typeof message.job_id !== 'string') return 'job_id: expected a string';
  if (!Number.isInteger(message.chunk_index)) return 'chunk_index: expected a whole number';
  if (!Number.isInteger(message.attempt) || message.attempt! < 1)
    return 'attempt: expected a whole number ≥ 1';
  if (typeof message.final !== 'boolean') return 'final: expected true or false';
  if (typeof message.result !== 'object' || message.result === null || typeof message.result.ok !== 'boolean')
    return 'result: expected an object with ok';
  return message as ResultMessage;
}

function parseJson(body: string | undefined): object | string {
  if (body === undefined) return 'the message has no body';
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return `the body is not JSON (${(error as Error).message})`;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? value
    : 'the body is not a JSON object';
}
