/**
 * A stand-in for Lambda's SQS event source mapping, for tests: it polls a real SQS-compatible queue and invokes an
 * unzipped Lambda artifact in Lambda-like execution environments (test/support/lambda-runtime.ts --serve, the
 * template's environment, NODE_OPTIONS loading the preload from the zip), as AWS documents the mapping
 * (docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, services-sqs-errorhandling.html):
 *
 * - it receives up to `batchSize` messages (with every system attribute, ApproximateReceiveCount included) and
 *   invokes the function once with them as `Records[]` — messageId, receiptHandle, body, attributes,
 *   messageAttributes, md5OfBody, eventSource `aws:sqs`, eventSourceARN, awsRegion;
 * - at most `concurrency` invocations run at once (the function's reserved concurrency); each environment runs one
 *   invocation at a time and is reused warm; one whose invocation outlives the function's timeout is killed, and
 *   after it (or a crash) the next invocation starts a new one (a cold start);
 * - a successful invocation deletes its batch; with ReportBatchItemFailures, all but the `batchItemFailures` it
 *   returned — an empty or missing list is complete success, an item whose identifier is empty, missing or not a
 *   message of the batch makes it a complete failure;
 * - a failed invocation (an error, a crash, a timeout) deletes nothing: the batch reappears when the queue's
 *   visibility timeout runs out, and the queue's redrive policy moves a message received maxReceiveCount times to
 *   its dead-letter queue. The mapping never changes a message's visibility.
 *
 * Unlike AWS it long-polls for 1 s, not 20 s, so that it stops quickly, and has no batching window.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { REPO_ROOT } from '../../common/paths.ts';
import type { InvocationOutcome } from './lambda-runtime.ts';

export interface EventSourceMappingOptions {
  client: SQSClient;
  queueUrl: string;
  /** The mapping's BatchSize (1–10 without a batching window). */
  batchSize: number;
  /** FunctionResponseTypes holds ReportBatchItemFailures. */
  reportBatchItemFailures: boolean;
  /** Invocations at once: the function's reserved concurrency. */
  concurrency: number;
  /** The function's Timeout; it must not exceed the queue's visibility timeout (AWS refuses such a mapping). */
  timeoutSeconds: number;
  /** The unzipped artifact (LAMBDA_TASK_ROOT). */
  taskRoot: string;
  /** The function's environment, as Lambda sets it (the template's variables and the runtime's own). */
  env: Record<string, string>;
}

/** What the mapping did, for tests to assert on. */
export interface MappingStats {
  invocations: number;
  /** Invocations that threw, crashed or timed out: their whole batch went back to the queue. */
  failedInvocations: number;
  coldStarts: number;
  deleted: number;
  /** Messages returned to the queue as batch item failures. */
  itemFailures: number;
}

interface Environment {
  child: ChildProcess;
  busy: boolean;
  /** The runtime's stdout and stderr, for the failure message of a test. */
  output: string[];
}

export class EventSourceMapping {
  readonly stats: MappingStats = {
    invocations: 0,
    failedInvocations: 0,
    coldStarts: 0,
    deleted: 0,
    itemFailures: 0,
  };
  private readonly options: EventSourceMappingOptions;
  private readonly environments = new Set<Environment>();
  private readonly inFlight = new Set<Promise<void>>();
  private queueArn = '';
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(options: EventSourceMappingOptions) {
    this.options = options;
  }

  /** Checks the queue as CreateEventSourceMapping does, then starts polling. */
  async start(): Promise<void> {
    const { Attributes = {} } = await this.options.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.options.queueUrl,
        AttributeNames: ['QueueArn', 'VisibilityTimeout'],
      }),
    );
    if (this.options.timeoutSeconds > Number(Attributes.VisibilityTimeout)) {
      throw new Error(
        `the function timeout (${this.options.timeoutSeconds} s) exceeds the queue's visibility timeout (${Attributes.VisibilityTimeout} s)`,
      );
    }
    this.queueArn = Attributes.QueueArn!;
    this.running ??= this.poll();
  }

  /** Stops polling, lets running invocations finish, and ends every environment. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    await Promise.all(this.inFlight);
    for (const environment of this.environments) environment.child.kill('SIGKILL');
    this.environments.clear();
  }

  /** The last lines the environments printed (the preload's and the handler's logs). */
  output(): string {
    return [...this.environments].flatMap((e) => e.output.slice(-20)).join('');
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      if (this.inFlight.size >= this.options.concurrency) {
        await Promise.race(this.inFlight);
        continue;
      }
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await this.options.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: this.options.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        ));
      } catch {
        // The queue server hiccuped: nothing was received, so nothing is lost.
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (messages.length === 0) continue;
      const Messages = messages;
      const task = this.invoke(Messages).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
    }
  }

  private async invoke(messages: Message[]): Promise<void> {
    this.stats.invocations++;
    const outcome = await this.run(this.event(messages));
    if (!outcome.ok) {
      this.stats.failedInvocations++;
      return;
    }
    const failed = this.failedItems(outcome.result, messages);
    if (failed === 'all') {
      this.stats.failedInvocations++;
      return;
    }
    this.stats.itemFailures += failed.size;
    for (const message of messages.filter((m) => !failed.has(m.MessageId!))) {
      // A delete that fails leaves the message to come back after its visibility timeout, as on AWS.
      await this.options.client
        .send(
          new DeleteMessageCommand({
            QueueUrl: this.options.queueUrl,
            ReceiptHandle: message.ReceiptHandle!,
          }),
        )
        .then(() => this.stats.deleted++)
        .catch(() => {});
    }
  }

  /** The event Lambda builds from received messages. */
  private event(messages: Message[]) {
    const region = this.options.env.AWS_REGION ?? 'us-east-1';
    return {
      Records: messages.map((m) => ({
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body,
        attributes: m.Attributes ?? {},
        messageAttributes: m.MessageAttributes ?? {},
        md5OfBody: m.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: this.queueArn,
        awsRegion: region,
      })),
    };
  }

  /** The message IDs to leave in the queue, or `all` when the response makes the whole batch a failure. */
  private failedItems(result: unknown, messages: Message[]): Set<string> | 'all' {
    if (!this.options.reportBatchItemFailures) return new Set();
    const list = (result as { batchItemFailures?: unknown } | null)?.batchItemFailures;
    if (list === undefined || list === null) return new Set();
    if (!Array.isArray(list)) return 'all';
    const ids = new Set(messages.map((m) => m.MessageId!));
    const failed = new Set<string>();
    for (const item of list) {
      const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      if (typeof id !== 'string' || !ids.has(id)) return 'all';
      failed.add(id);
    }
    return failed;
  }

  /** One invocation in a warm environment, or a new one; a timeout or a crash kills the environment. */
  private async run(event: unknown): Promise<InvocationOutcome | { ok: false; errorType: string }> {
    let environment: Environment;
    try {
      environment = await this.acquire();
    } catch (error) {
      return { ok: false, errorType: `Runtime.InitError: ${(error as Error).message}` };
    }
    const timeoutMs = this.options.timeoutSeconds * 1000;
    const outcome = await new Promise<InvocationOutcome | { ok: false; errorType: string }>((resolve) => {
      const { child } = environment;
      const done = (value: InvocationOutcome | { ok: false; errorType: string }) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(value);
      };
      const onMessage = (message: { type?: string; outcome?: InvocationOutcome }) => {
        if (message.type === 'result') done(message.outcome!);
      };
      const onExit = (code: number | null, signal: string | null) =>
        done({ ok: false, errorType: `Runtime.ExitError (${signal ?? `exit ${code}`})` });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done({ ok: false, errorType: `Task timed out after ${this.options.timeoutSeconds} seconds` });
      }, timeoutMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ type: 'invoke', event, timeoutMs });
    });
    // A function error leaves the environment warm; a timed-out one was killed above, a crashed one is gone.
    environment.busy = false;
    return outcome;
  }

  private async acquire(): Promise<Environment> {
    const warm = [...this.environments].find(
      (e) => !e.busy && e.child.exitCode === null && e.child.signalCode === null && !e.child.killed,
    );
    if (warm) {
      warm.busy = true;
      return warm;
    }
    this.stats.coldStarts++;
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'test', 'support', 'lambda-runtime.ts'), '--serve'],
      {
        cwd: this.options.taskRoot,
        env: { ...this.options.env, LAMBDA_TASK_ROOT: this.options.taskRoot },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    const environment: Environment = { child, busy: true, output: [] };
    const keep = (chunk: Buffer) => {
      environment.output.push(chunk.toString());
      if (environment.output.length > 50) environment.output.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', () => this.environments.delete(environment));
    this.environments.add(environment);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`not initialised within the ${this.options.timeoutSeconds} s timeout`));
      }, this.options.timeoutSeconds * 1000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited while initialising (${signal ?? code}): ${environment.output.join('')}`));
      });
    });
    return environment;
  }
}
