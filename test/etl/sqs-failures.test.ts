/**
 * The SQS path's failure cases against the real queue server (ElasticMQ, started by the stack): nothing a queue holds
 * and no failed queue call can end the listener or leave a chunk waiting for ever. Each case runs the listener's own
 * classes in this process on queues of its own, with a visibility timeout of 1 s; queue failures are injected by
 * wrapping the real client.
 */
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../common/s3-store.ts';
import { etlConfig, type EtlConfig } from '../../etl/config.ts';
import type { LocalFleetDispatcher } from '../../etl/dispatch.ts';
import { JobRunner } from '../../etl/listener/jobs.ts';
import {
  ensureQueues,
  reportResult,
  sqsClient,
  type ChunkMessage,
  type QueueUrls,
} from '../../etl/sqs/queues.ts';
import { SqsDispatcher } from '../../etl/sqs/sqs-dispatcher.ts';
import { SqsEventSource } from '../../etl/sqs/sqs-event-source.ts';
import type { ChunkEvent, InvocationResult } from '../../etl/types.ts';
import { pollUntil } from '../support/poll.ts';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => process.off('unhandledRejection', onUnhandled));
afterEach(() => {
  expect(unhandled, 'unhandled rejections').toEqual([]);
});

const config = (): EtlConfig => {
  const base = etlConfig();
  const queue = `etl-failures-${randomUUID().slice(0, 8)}`;
  return {
    ...base,
    concurrency: 2,
    maxAttempts: 2,
    retryBaseMs: 0,
    maxWaiting: 100,
    jobTtlMs: 60_000,
    sqs: { ...base.sqs, chunkQueue: queue, resultQueue: `${queue}-results`, visibilityTimeoutSeconds: 1 },
  };
};

async function queues(settings: EtlConfig): Promise<{ client: SQSClient; urls: QueueUrls }> {
  const client = sqsClient(settings.sqs);
  return { client, urls: await ensureQueues(client, settings.sqs, settings.maxAttempts) };
}

/** The real client, except that `send` throws for the commands `fails` picks. */
function withFailures(client: SQSClient, fails: (command: object) => boolean): SQSClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      return async (command: object) => {
        if (fails(command)) throw new Error(`injected failure of ${command.constructor.name}`);
        return (target.send as (c: object) => Promise<unknown>)(command);
      };
    },
  });
}

async function receiveAll(client: SQSClient, url: string, waitSeconds = 1): Promise<Message[]> {
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  return Messages;
}

const chunkMessage = (jobId: string, index: number): ChunkMessage => ({
  function: 'crop_stats',
  event: {
    job_id: jobId,
    kind: 'crop_stats',
    chunk_index: index,
    chunk_count: 1,
    attempt: 1,
    payload: {},
    trace: {},
  },
});

const ok: InvocationResult = { ok: true, billedMs: 1, coldStart: false, invocationId: 'test' };

/** A stand-in for the sandbox fleet that records what it ran and succeeds. */
function recordingFleet(ran: ChunkEvent[]): LocalFleetDispatcher {
  return {
    invoke: async (_name: string, event: ChunkEvent) => {
      ran.push(event);
      return ok;
    },
  } as unknown as LocalFleetDispatcher;
}

describe('The local SQS event source', () => {
  it('dead-letters a body that is not a chunk message, with the reason, and goes on with the next message', async () => {
    const settings = config();
    const { client, urls } = await queues(settings);
    const ran: ChunkEvent[] = [];
    const source = new SqsEventSource(client, urls, recordingFleet(ran), settings);
    const jobId = `job-${randomUUID()}`;
    await client.send(new SendMessageCommand({ QueueUrl: urls.chunks, MessageBody: 'this is { not json' }));
    await client.send(
      new SendMessageCommand({ QueueUrl: urls.chunks, MessageBody: JSON.stringify({ function: 'nope' }) }),
    );
    await client.send(
      new SendMessageCommand({ QueueUrl: urls.chunks, MessageBody: JSON.stringify(chunkMessage(jobId, 0)) }),
    );
    source.start();
    try {
      const seen: Message[] = [];
      const letters = await pollUntil('both malformed bodies in the dead-letter queue', async () => {
        seen.push(...(await receiveAll(client, urls.deadLetter)));
        return seen.length >= 2 ? seen : undefined;
      });
      const reasons = letters.map((m) => [m.Body, m.MessageAttributes?.reason?.StringValue]);
      expect(reasons).toEqual(
        expect.arrayContaining([
          ['this is { not json', expect.stringMatching(/^the body is not JSON/)],
          [JSON.stringify({ function: 'nope' }), expect.stringMatching(/^function: expected one of/)],
        ]),
      );
      await pollUntil('the good chunk to run', async () => (ran.length > 0 ? true : undefined));
      expect(ran.map((e) => e.job_id)).toEqual([jobId]);
    } finally {
      await source.stop();
    }
    // Nothing comes back: every message was dead-lettered or deleted (the visibility timeout is 1 s).
    expect(await receiveAll(client, urls.chunks, 2)).toEqual([]);
  });

  it('survives failed Delete and ChangeMessageVisibility calls: the message comes back and is handled again', async () => {
    const settings = config();
    const real = await queues(settings);
    let failedDeletes = 0;
    let failedVisibility = 0;
    const client = withFailures(real.client, (command) => {
      const name = command.constructor.name;
      if (name === 'DeleteMessageCommand' && failedDeletes < 1) return ++failedDeletes > 0;
      if (name === 'ChangeMessageVisibilityCommand' && failedVisibility < 1) return ++failedVisibility > 0;
      return false;
    });
    const ran: ChunkEvent[] = [];
    let calls = 0;
    // The first chunk fails once (its visibility change fails too), the second succeeds (its delete fails once).
    const fleet = {
      invoke: async (_name: string, event: ChunkEvent) => {
        ran.push(event);
        calls++;
        return event.chunk_index === 0 && event.attempt === 1
          ? { ...ok, ok: false, error: { name: 'Error', message: 'flaky' } }
          : ok;
      },
    } as unknown as LocalFleetDispatcher;
    const source = new SqsEventSource(client, real.urls, fleet, settings);
    const jobId = `job-${randomUUID()}`;
    for (const index of [0, 1]) {
      await real.client.send(
        new SendMessageCommand({
          QueueUrl: real.urls.chunks,
          MessageBody: JSON.stringify(chunkMessage(jobId, index)),
        }),
      );
    }
    source.start();
    try {
      const results: string[] = [];
      await pollUntil(
        'a final successful result for both chunks',
        async () => {
          for (const m of await receiveAll(real.client, real.urls.results)) results.push(m.Body!);
          const finals = results
            .map((b) => JSON.parse(b) as { chunk_index: number; final: boolean; result: { ok: boolean } })
            .filter((r) => r.final && r.result.ok);
          return new Set(finals.map((r) => r.chunk_index)).size === 2 ? finals : undefined;
        },
        { timeoutMs: 20_000 },
      );
    } finally {
      await source.stop();
    }
    expect(failedDeletes).toBe(1);
    expect(failedVisibility).toBe(1);
    // Chunk 0 ran twice (failed, then retried); chunk 1 ran again because its delete failed.
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(await receiveAll(real.client, real.urls.chunks, 2)).toEqual([]);
  });
});

describe('The local SQS event source, while a message waits for a sandbox', () => {
  it('keeps it invisible, so a message that never failed runs once and never reaches the dead-letter queue', async () => {
    const base = config();
    const settings = { ...base, sqs: { ...base.sqs, visibilityTimeoutSeconds: 2 } };
    const { client, urls } = await queues(settings);
    const ran: ChunkEvent[] = [];
    // Like the compaction fleet: one sandbox, so the messages taken together run one after another, each for
    // twice the visibility timeout.
    let previous = Promise.resolve();
    const oneSandbox = {
      invoke: (_name: string, event: ChunkEvent) => {
        const turn = previous.then(async () => {
          ran.push(event);
          await new Promise((resolve) => setTimeout(resolve, settings.sqs.visibilityTimeoutSeconds * 2000));
        });
        previous = turn;
        return turn.then(() => ok);
      },
    } as unknown as LocalFleetDispatcher;
    const source = new SqsEventSource(client, urls, oneSandbox, { ...settings, concurrency: 3 });
    const jobId = `job-${randomUUID()}`;
    for (const index of [0, 1, 2]) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: urls.chunks,
          MessageBody: JSON.stringify(chunkMessage(jobId, index)),
        }),
      );
    }
    source.start();
    // By message ID: result messages left undeleted come back after the visibility timeout.
    const reported = new Map<string, { chunk_index: number; attempt: number; final: boolean }>();
    try {
      await pollUntil(
        'a final result for each of the three chunks',
        async () => {
          for (const m of await receiveAll(client, urls.results))
            reported.set(m.MessageId!, JSON.parse(m.Body!));
          const finals = [...reported.values()].filter((r) => r.final);
          return new Set(finals.map((r) => r.chunk_index)).size === 3 ? true : undefined;
        },
        { timeoutMs: 30_000 },
      );
    } finally {
      await source.stop();
    }
    // A standard queue keeps no order.
    expect(ran.map((e) => [e.chunk_index, e.attempt]).sort()).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
    expect([...reported.values()].map((r) => r.attempt)).toEqual([1, 1, 1]);
    expect(await receiveAll(client, urls.deadLetter, 2)).toEqual([]);
    expect(await receiveAll(client, urls.chunks, 2)).toEqual([]);
  });
});

describe('The SQS dispatcher', () => {
  it('deletes a malformed result message and still settles the chunk from the good one', async () => {
    const settings = config();
    const { client, urls } = await queues(settings);
    const dispatcher = new SqsDispatcher(client, urls, { deadlineMs: 20_000, maxPending: 10 });
    const jobId = `job-${randomUUID()}`;
    await client.send(new SendMessageCommand({ QueueUrl: urls.results, MessageBody: 'garbage' }));
    const outcome = dispatcher.invoke('crop_stats', chunkMessage(jobId, 0).event);
    await reportResult(client, urls.results, {
      job_id: jobId,
      chunk_index: 0,
      attempt: 1,
      final: true,
      result: ok,
    });
    expect(await outcome).toMatchObject({ ok: true, attempts: 1 });
    await dispatcher.close();
    // Had it been left undeleted, it would be visible again after 1 s.
    expect(await receiveAll(client, urls.results, 3)).toEqual([]);
  });

  it('counts an attempt that never reported (its worker was killed) as failed when a later one reports', async () => {
    const settings = config();
    const { client, urls } = await queues(settings);
    const dispatcher = new SqsDispatcher(client, urls, { deadlineMs: 20_000, maxPending: 10 });
    const seen: [number, boolean, string | undefined][] = [];
    const jobId = `job-${randomUUID()}`;
    const outcome = dispatcher.invoke('crop_stats', chunkMessage(jobId, 0).event, (result, attempt) =>
      seen.push([attempt, result.ok, result.error?.name]),
    );
    // A Lambda killed on the second receive reports nothing; the third attempt reports success.
    const failedFirst = { ...ok, ok: false, error: { name: 'Error', message: 'first try' } };
    await reportResult(client, urls.results, {
      job_id: jobId,
      chunk_index: 0,
      attempt: 1,
      final: false,
      result: failedFirst,
    });
    await pollUntil('the first attempt to be counted', async () => (seen.length > 0 ? true : undefined));
    await reportResult(client, urls.results, {
      job_id: jobId,
      chunk_index: 0,
      attempt: 3,
      final: true,
      result: ok,
    });
    expect(await outcome).toMatchObject({ ok: true, attempts: 3 });
    expect(seen).toEqual([
      [1, false, 'Error'],
      [2, false, 'NoResult'],
      [3, true, undefined],
    ]);
    await dispatcher.close();
  });

  it('fails a chunk with no final result after visibility timeout × attempts, and forgets it', async () => {
    const settings = config();
    const { client, urls } = await queues(settings);
    const deadlineMs = settings.sqs.visibilityTimeoutSeconds * 1000 * settings.maxAttempts;
    const dispatcher = new SqsDispatcher(client, urls, { deadlineMs, maxPending: 10 });
    const attempts: number[] = [];
    const jobId = `job-${randomUUID()}`;
    const outcome = dispatcher.invoke('crop_stats', chunkMessage(jobId, 0).event, (_r, attempt) =>
      attempts.push(attempt),
    );
    // One attempt is reported, the worker then dies: no final result ever comes.
    await reportResult(client, urls.results, {
      job_id: jobId,
      chunk_index: 0,
      attempt: 1,
      final: false,
      result: { ...ok, ok: false, error: { name: 'Error', message: 'first try' } },
    });
    const result = await outcome;
    expect(result).toMatchObject({
      ok: false,
      attempts: 1,
      error: {
        name: 'ChunkDeadline',
        message: 'no final result within 2 s (the visibility timeout × the attempts)',
      },
    });
    expect(attempts).toEqual([1]);
    expect(dispatcher.stats().sqs!.running).toBe(0);
    await dispatcher.close();
  });

  it('ends a job whose workers never report as failed, with the deadline as the dead letter’s reason', async () => {
    const settings = config();
    const { client, urls } = await queues(settings);
    const dispatcher = new SqsDispatcher(client, urls, { deadlineMs: 2000, maxPending: 10 });
    const runner = new JobRunner(settings, dispatcher, S3Store.fromSettings(settings.s3));
    const submitted = runner.submit('crop_stats', [{ payload: {} }, { payload: {} }]);
    const job = await pollUntil(
      `job ${submitted.id} to end`,
      async () => {
        const view = await runner.find(submitted.id);
        return view && view.status !== 'running' && view.status !== 'queued' ? view : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expect(job.status).toBe('failed');
    expect(job.chunks).toMatchObject({ total: 2, failed: 2, in_flight: 0 });
    expect(job.dead_letters.map((d) => d.error)).toEqual([
      'ChunkDeadline: no final result within 2 s (the visibility timeout × the attempts)',
      'ChunkDeadline: no final result within 2 s (the visibility timeout × the attempts)',
    ]);
    expect(dispatcher.stats().sqs!.running).toBe(0);
    await dispatcher.close();
  });
});
