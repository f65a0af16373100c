/**
 * Dispatch through SQS: each chunk becomes one message on the chunk queue; whoever consumes it (Lambda's event
 * source on AWS, SqsEventSource locally) reports every attempt's outcome on the results queue. Retries are the
 * queue's: a failed attempt is received again after its backoff, and after the last allowed receive SQS moves the
 * message to the dead-letter queue. So one `invoke` covers all attempts of a chunk and resolves with the final one.
 *
 * A worker can die before it reports (a Lambda killed by its timeout, a lost result): every chunk therefore has a
 * deadline, the visibility timeout × the attempts, after which it counts as failed, so no job waits for ever and
 * nothing stays in `pending`. Every result message is deleted once read, a malformed one too (logged with its ID).
 */
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { logger } from '../../instrumentation/api.ts';
import type { Dispatcher, AttemptListener } from '../dispatch.ts';
import type { FunctionName } from '../types.ts';
import type { FleetStats } from '../runtime/fleet.ts';
import type { ChunkEvent, InvocationResult } from '../types.ts';
import {
  chunkMessageAttributes,
  parseResultMessage,
  type ChunkMessage,
  type QueueUrls,
  type ResultMessage,
} from './queues.ts';

interface Pending {
  onAttempt?: AttemptListener;
  resolve: (result: InvocationResult) => void;
  deadline: NodeJS.Timeout;
  /** The last attempt reported so far. */
  attempts: number;
}

export interface SqsDispatcherOptions {
  /** How long a chunk may go without a final result before it counts as failed: visibility timeout × attempts. */
  deadlineMs: number;
  /** Chunks that may await their result at once (EtlConfig's maxWaiting). */
  maxPending: number;
}

export class SqsDispatcher implements Dispatcher {
  readonly retriesItself = true;
  private readonly client: SQSClient;
  private readonly urls: QueueUrls;
  private readonly deadlineMs: number;
  private readonly maxPending: number;
  private readonly pending = new Map<string, Pending>();
  private polling: Promise<void> | undefined;
  private closed = false;

  constructor(client: SQSClient, urls: QueueUrls, options: SqsDispatcherOptions) {
    this.client = client;
    this.urls = urls;
    this.deadlineMs = options.deadlineMs;
    this.maxPending = options.maxPending;
  }

  async invoke(
    functionName: FunctionName,
    event: ChunkEvent,
    onAttempt?: AttemptListener,
  ): Promise<InvocationResult> {
    const key = `${event.job_id}/${event.chunk_index}`;
    const outcome = new Promise<InvocationResult>((resolve) => {
      const deadline = setTimeout(() => this.expire(key), this.deadlineMs);
      deadline.unref();
      this.pending.set(key, { onAttempt, resolve, deadline, attempts: 0 });
    });
    const message: ChunkMessage = { function: functionName, event };
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.urls.chunks,
          MessageBody: JSON.stringify(message),
          ...chunkMessageAttributes(this.urls.chunks, message),
        }),
      );
    } catch (error) {
      // Never enqueued: nothing will report on it.
      this.settle(key);
      throw error;
    }
    this.polling ??= this.poll();
    return outcome;
  }

  room(): number {
    return this.maxPending - this.pending.size;
  }

  stats(): Record<string, FleetStats> {
    return { sqs: { running: this.pending.size, warm: 0, waiting: 0 } };
  }

  /** Stops reading results; chunks still pending count as failed. */
  async close(): Promise<void> {
    this.closed = true;
    await this.polling;
    for (const key of [...this.pending.keys()])
      this.fail(key, 'the dispatcher closed before the chunk finished');
  }

  /** Reads the results queue while invocations are pending (long polls of 1 s). */
  private async poll(): Promise<void> {
    while (!this.closed && this.pending.size > 0) {
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.urls.results,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        ));
      } catch (error) {
        // The queue server hiccuped: try again after a moment; the chunks' deadlines bound the wait.
        logger.warn({ queue: this.urls.results, err: error }, 'receiving results failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      for (const message of messages) await this.receive(message);
    }
    this.polling = undefined;
    if (!this.closed && this.pending.size > 0) this.polling = this.poll();
  }

  /** Applies one result message and deletes it, malformed or not; a failed delete is logged (it comes back once). */
  private async receive(message: Message): Promise<void> {
    const parsed = parseResultMessage(message.Body);
    if (typeof parsed === 'string') {
      logger.error(
        { message_id: message.MessageId, queue: this.urls.results, reason: parsed },
        'malformed result message deleted',
      );
    } else {
      this.handle(parsed);
    }
    try {
      await this.client.send(
        new DeleteMessageCommand({ QueueUrl: this.urls.results, ReceiptHandle: message.ReceiptHandle! }),
      );
    } catch (error) {
      logger.error(
        { message_id: message.MessageId, queue: this.urls.results, err: error },
        'deleting a result message failed; it will be delivered again and ignored',
      );
    }
  }

  private handle(message: ResultMessage): void {
    const key = `${message.job_id}/${message.chunk_index}`;
    const pending = this.pending.get(key);
    // Unknown (another listener's, or a chunk already settled) or a duplicate delivery of an attempt seen before.
    if (!pending || message.attempt <= pending.attempts) return;
    // Attempts skipped over ended without a report: a worker killed by its timeout or a crash reports nothing, and
    // the queue delivered the message again. Each still counts as a failed attempt (a retry, billed time unknown).
    for (let attempt = pending.attempts + 1; attempt < message.attempt; attempt++)
      pending.onAttempt?.(unreported(attempt), attempt);
    pending.attempts = message.attempt;
    pending.onAttempt?.(message.result, message.attempt);
    if (message.final) this.settle(key)?.resolve({ ...message.result, attempts: message.attempt });
  }

  private expire(key: string): void {
    const seconds = Math.round(this.deadlineMs / 1000);
    this.fail(key, `no final result within ${seconds} s (the visibility timeout × the attempts)`);
  }

  private fail(key: string, reason: string): void {
    const pending = this.settle(key);
    pending?.resolve({
      ok: false,
      error: { name: 'ChunkDeadline', message: reason },
      billedMs: 0,
      coldStart: false,
      invocationId: '',
      attempts: Math.max(1, pending.attempts),
    });
  }

  private settle(key: string): Pending | undefined {
    const pending = this.pending.get(key);
    if (!pending) return undefined;
    clearTimeout(pending.deadline);
    this.pending.delete(key);
    return pending;
  }
}

/** An attempt whose worker never reported: it was killed (timeout, crash) or its result was lost. */
function unreported(attempt: number): InvocationResult {
  return {
    ok: false,
    error: {
      name: 'NoResult',
      message: `attempt ${attempt} ended without a result (the invocation was killed, timed out or its report was lost)`,
    },
    billedMs: 0,
    coldStart: false,
    invocationId: '',
  };
}
