/**
 * Dispatch through SQS: each chunk becomes one message on the chunk queue; whoever consumes it (Lambda's event
 * source on AWS, SqsEventSource locally) reports every attempt's outcome on the results queue. Retries are the
 * queue's: a failed attempt is received again after its backoff, and after the last allowed receive SQS moves the
 * message to the dead-letter queue. So one `invoke` covers all attempts of a chunk and resolves with the final one.
 */
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Dispatcher, AttemptListener } from '../dispatch.ts';
import type { FunctionName } from '../types.ts';
import type { FleetStats } from '../runtime/fleet.ts';
import type { ChunkEvent, InvocationResult } from '../types.ts';
import type { ChunkMessage, QueueUrls, ResultMessage } from './queues.ts';

interface Pending {
  onAttempt?: AttemptListener;
  resolve: (result: InvocationResult) => void;
}

export class SqsDispatcher implements Dispatcher {
  readonly retriesItself = true;
  private readonly client: SQSClient;
  private readonly urls: QueueUrls;
  private readonly pending = new Map<string, Pending>();
  private polling: Promise<void> | undefined;
  private closed = false;

  constructor(client: SQSClient, urls: QueueUrls) {
    this.client = client;
    this.urls = urls;
  }

  async invoke(
    functionName: FunctionName,
    event: ChunkEvent,
    onAttempt?: AttemptListener,
  ): Promise<InvocationResult> {
    const key = `${event.job_id}/${event.chunk_index}`;
    const outcome = new Promise<InvocationResult>((resolve) => this.pending.set(key, { onAttempt, resolve }));
    const message: ChunkMessage = { function: functionName, event };
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.urls.chunks, MessageBody: JSON.stringify(message) }),
    );
    this.polling ??= this.poll();
    return outcome;
  }

  stats(): Record<string, FleetStats> {
    return { sqs: { running: this.pending.size, warm: 0, waiting: 0 } };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.polling;
  }

  /** Reads the results queue while invocations are pending (long polls of 1 s). */
  private async poll(): Promise<void> {
    while (!this.closed && this.pending.size > 0) {
      try {
        const { Messages = [] } = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.urls.results,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        for (const message of Messages) {
          this.handle(JSON.parse(message.Body!) as ResultMessage);
          await this.client.send(
            new DeleteMessageCommand({ QueueUrl: this.urls.results, ReceiptHandle: message.ReceiptHandle! }),
          );
        }
      } catch {
        // The queue server hiccuped: try again after a moment rather than lose pending chunks.
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    this.polling = undefined;
    if (!this.closed && this.pending.size > 0) this.polling = this.poll();
  }

  private handle(message: ResultMessage): void {
    const pending = this.pending.get(`${message.job_id}/${message.chunk_index}`);
    if (!pending) return;
    pending.onAttempt?.(message.result, message.attempt);
    if (message.final) {
      this.pending.delete(`${message.job_id}/${message.chunk_index}`);
      pending.resolve({ ...message.result, attempts: message.attempt });
    }
  }
}
