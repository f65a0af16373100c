/**
 * The local stand-in for Lambda's SQS event source mapping: it receives chunk messages from the queue and runs each
 * in the sandbox fleet, as AWS would invoke the function. After each attempt it reports the outcome on the results
 * queue; a success deletes the message, a failure makes it visible again after the backoff, so the queue retries it
 * and, after its last allowed receive, moves it to the dead-letter queue.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { EtlConfig } from '../config.ts';
import type { LocalFleetDispatcher } from '../dispatch.ts';
import { SandboxFailure } from '../runtime/fleet.ts';
import type { InvocationResult } from '../types.ts';
import { reportResult, type ChunkMessage, type QueueUrls } from './queues.ts';

export class SqsEventSource {
  private readonly client: SQSClient;
  private readonly urls: QueueUrls;
  private readonly fleet: LocalFleetDispatcher;
  private readonly config: EtlConfig;
  private readonly inFlight = new Set<Promise<void>>();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(client: SQSClient, urls: QueueUrls, fleet: LocalFleetDispatcher, config: EtlConfig) {
    this.client = client;
    this.urls = urls;
    this.fleet = fleet;
    this.config = config;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    await Promise.all(this.inFlight);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const room = this.config.concurrency - this.inFlight.size;
      if (room <= 0) {
        await Promise.race(this.inFlight);
        continue;
      }
      try {
        const { Messages = [] } = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.urls.chunks,
            MaxNumberOfMessages: Math.min(10, room),
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        for (const message of Messages) {
          const task = this.handle(message).finally(() => this.inFlight.delete(task));
          this.inFlight.add(task);
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async handle(message: Message): Promise<void> {
    const { function: functionName, event } = JSON.parse(message.Body!) as ChunkMessage;
    const attempt = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    let result: InvocationResult;
    try {
      result = await this.fleet.invoke(functionName, { ...event, attempt });
    } catch (error) {
      const failure = error as Error;
      result = {
        ok: false,
        error: { name: failure.name, message: failure.message },
        billedMs: error instanceof SandboxFailure ? error.billedMs : 0,
        coldStart: false,
        invocationId: '',
      };
    }
    const final = result.ok || attempt >= this.config.maxAttempts;
    await reportResult(this.client, this.urls.results, {
      job_id: event.job_id,
      chunk_index: event.chunk_index,
      attempt,
      final,
      result,
    });
    if (result.ok) {
      await this.client.send(
        new DeleteMessageCommand({ QueueUrl: this.urls.chunks, ReceiptHandle: message.ReceiptHandle! }),
      );
    } else {
      // Visible again after the backoff (at once after the last attempt, so the queue dead-letters it).
      const backoffMs = final ? 0 : this.config.retryBaseMs * 2 ** (attempt - 1);
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.urls.chunks,
          ReceiptHandle: message.ReceiptHandle!,
          VisibilityTimeout: Math.ceil(backoffMs / 1000),
        }),
      );
    }
  }
}
