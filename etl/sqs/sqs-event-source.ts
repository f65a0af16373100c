/**
 * The local stand-in for Lambda's SQS event source mapping: it receives chunk messages from the queue and runs each
 * in the sandbox fleet, as AWS would invoke the function; a message it has taken stays invisible until its attempt
 * ends, however long it waits for a sandbox. After each attempt it reports the outcome on the results
 * queue; a success deletes the message, a failure makes it visible again after the backoff, so the queue retries it
 * and, after its last allowed receive, moves it to the dead-letter queue.
 *
 * No message can end the loop: a body that is not a chunk message goes to the dead-letter queue at once (and is
 * deleted), and a failed queue call is logged with the message ID — the message then simply comes back when its
 * visibility timeout runs out, and the queue's redrive policy still bounds how often.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { logger } from '../../instrumentation/api.ts';
import type { EtlConfig } from '../config.ts';
import type { LocalFleetDispatcher } from '../dispatch.ts';
import { SandboxFailure } from '../runtime/fleet.ts';
import type { InvocationResult } from '../types.ts';
import { isFifoQueue, parseChunkMessage, reportResult, type ChunkMessage, type QueueUrls } from './queues.ts';

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
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.urls.chunks,
            MaxNumberOfMessages: Math.min(10, room),
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        ));
      } catch (error) {
        // The queue server is away: nothing was received, so nothing is lost; try again in a moment.
        logger.warn({ queue: this.urls.chunks, err: error }, 'receiving chunk messages failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      for (const message of messages) {
        const task = this.handle(message).finally(() => this.inFlight.delete(task));
        this.inFlight.add(task);
      }
    }
  }

  /** Never rejects: every failure is logged with the message ID and leaves the message to the queue's policy. */
  private async handle(message: Message): Promise<void> {
    const messageId = message.MessageId ?? '(no id)';
    try {
      const parsed = parseChunkMessage(message.Body);
      if (typeof parsed === 'string') await this.deadLetter(message, parsed);
      else await this.run(message, parsed);
    } catch (error) {
      logger.error(
        { message_id: messageId, queue: this.urls.chunks, err: error },
        'handling a chunk message failed; the queue will deliver it again after its visibility timeout',
      );
    }
  }

  /** A body that can never be processed: straight to the dead-letter queue, with the reason, then deleted. */
  private async deadLetter(message: Message, reason: string): Promise<void> {
    logger.error(
      { message_id: message.MessageId, queue: this.urls.chunks, reason },
      'malformed chunk message moved to the dead-letter queue',
    );
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.urls.deadLetter,
        MessageBody: message.Body ?? '',
        MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 256) } },
        // A FIFO dead-letter queue wants a group and a deduplication ID: its own group, and the message's ID, so
        // that moving it again after a failed delete leaves one copy.
        ...(isFifoQueue(this.urls.deadLetter)
          ? { MessageGroupId: 'malformed', MessageDeduplicationId: message.MessageId }
          : {}),
      }),
    );
    await this.client.send(
      new DeleteMessageCommand({ QueueUrl: this.urls.chunks, ReceiptHandle: message.ReceiptHandle! }),
    );
  }

  private async run(message: Message, { function: functionName, event }: ChunkMessage): Promise<void> {
    const attempt = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    let result: InvocationResult;
    const held = this.holdInvisible(message);
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
    } finally {
      await held.release();
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

  /**
   * Keeps a taken message invisible until its attempt has an outcome. A message can wait for a sandbox longer than
   * the visibility timeout (a compaction waits for the one compaction sandbox, a chunk for a cold start): were it to
   * reappear meanwhile, the queue would count a receive that was never an attempt, deliver it twice, and after
   * maxReceiveCount move a message that never failed to the dead-letter queue. So its visibility is extended every
   * third of the timeout; the fleet's invocation timeout bounds how long.
   */
  private holdInvisible(message: Message): { release(): Promise<void> } {
    const seconds = this.config.sqs.visibilityTimeoutSeconds;
    let extending: Promise<unknown> = Promise.resolve();
    const timer = setInterval(
      () => {
        extending = this.client
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: this.urls.chunks,
              ReceiptHandle: message.ReceiptHandle!,
              VisibilityTimeout: seconds,
            }),
          )
          .catch((error: unknown) =>
            logger.warn(
              { message_id: message.MessageId, queue: this.urls.chunks, err: error },
              'extending a waiting message’s visibility failed; it may be delivered again',
            ),
          );
      },
      (seconds * 1000) / 3,
    );
    timer.unref();
    // An extension still under way must not land after the attempt's own visibility change and undo it.
    return {
      release: async () => {
        clearInterval(timer);
        await extending;
      },
    };
  }
}
