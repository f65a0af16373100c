/**
 * The ETL's SQS path against a real SQS-compatible server (ElasticMQ, started by the stack): chunks travel as queue
 * messages with their trace context inside, the queue does the retrying and the dead-lettering, and a job is still
 * one trace with one invocation span per attempt.
 */
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etlConfig } from '../../etl/config.ts';
import { sqsClient, type ChunkMessage } from '../../etl/sqs/queues.ts';
import { tag } from '../support/backends.ts';
import { pollUntil } from '../support/poll.ts';
import { invocations, jobTrace, producers, startListener, type TestListener } from '../support/etl.ts';
import { tree } from '../support/trace-tree.ts';

const queue = `etl-chunks-${randomUUID().slice(0, 8)}`;
let listener: TestListener;
const runJob = (spec: Record<string, unknown>) => listener.runJob(spec);

beforeAll(async () => {
  listener = await startListener({
    OBSERVATORY_ETL_DISPATCH: 'sqs',
    OBSERVATORY_ETL_CHUNK_QUEUE: queue,
    OBSERVATORY_ETL_RESULT_QUEUE: `${queue}-results`,
    OBSERVATORY_ETL_CONCURRENCY: '2',
    OBSERVATORY_ETL_RETRY_BASE_MS: '200',
  });
});

afterAll(async () => {
  await listener?.stop();
});

describe('An ETL job dispatched through SQS', () => {
  it('is one trace: each chunk’s invocation is the child of its producer span, across the queue', async () => {
    const job = await runJob({ bbox: [0, 40, 10, 45], from: '2026-06-20', to: '2026-06-21' });
    expect(job.status).toBe('done');
    expect(job.chunks).toMatchObject({ total: 4, done: 4, failed: 0 });
    const chunks = producers(tree(await jobTrace(job)));
    expect(chunks).toHaveLength(4);
    for (const chunk of chunks) {
      const [invocation, ...more] = invocations(chunk);
      expect(more).toEqual([]);
      expect(invocation!.service).toBe('etl-worker');
      expect(tag(invocation!.span, 'etl.chunk.index')).toBe(tag(chunk.span, 'etl.chunk.index'));
    }
  });

  it('lets the queue retry a chunk that fails twice: three invocation spans, attempts counted by receives', async () => {
    const job = await runJob({
      bbox: [0, 40, 5, 45],
      from: '2026-06-22',
      to: '2026-06-22',
      fault: { chunks: [0], kind: 'throw', attempts: 2 },
    });
    expect(job.status).toBe('done');
    expect(job.chunks).toMatchObject({ total: 1, done: 1, retried: 2 });
    const [chunk] = producers(tree(await jobTrace(job)));
    expect(invocations(chunk!).map((i) => tag(i.span, 'etl.attempt'))).toEqual([1, 2, 3]);
  });

  it('dead-letters a poison chunk into the queue’s dead-letter queue and reports the job as partial', async () => {
    const job = await runJob({
      bbox: [0, 40, 5, 45],
      from: '2026-06-23',
      to: '2026-06-24',
      fault: { chunks: [1], kind: 'throw', attempts: 99 },
    });
    expect(job.status).toBe('partial');
    expect(job.dead_letters).toEqual([
      { chunk_index: 1, attempts: 3, error: 'Error: injected fault: chunk 1 attempt 3' },
    ]);
    const settings = { ...etlConfig().sqs, chunkQueue: queue };
    const client = sqsClient(settings);
    const dlq = `${settings.endpoint}/000000000000/${queue}-dlq`;
    const letter = await pollUntil(`the poison chunk of ${job.id} in ${queue}-dlq`, async () => {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      return Messages.map((m) => JSON.parse(m.Body!) as ChunkMessage).find((m) => m.event.job_id === job.id);
    });
    expect(letter.event.chunk_index).toBe(1);
    const [poison] = producers(tree(await jobTrace(job))).filter((c) => tag(c.span, 'etl.chunk.index') === 1);
    expect(invocations(poison!)).toHaveLength(3);
    expect(tag(poison!.span, 'error')).toBe(true);
  });

  it('retries, through the queue, the chunk of a sandbox killed mid-invocation', async () => {
    const job = await runJob({
      bbox: [0, 40, 5, 45],
      from: '2026-06-25',
      to: '2026-06-25',
      fault: { chunks: [0], kind: 'crash', attempts: 1 },
    });
    expect(job.status).toBe('done');
    expect(job.chunks).toMatchObject({ total: 1, done: 1, retried: 1 });
  });
});
