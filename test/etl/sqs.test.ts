/**
 * The ETL's SQS path against a real SQS-compatible server (ElasticMQ, started by the stack): chunks travel as queue
 * messages with their trace context inside, the queue does the retrying and the dead-lettering, and a job is still
 * one trace with one invocation span per attempt.
 */
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../etl/listener/jobs.ts';
import { sqsClient, sqsSettings, type ChunkMessage } from '../../etl/sqs/queues.ts';
import { demoConfig } from '../../services/config.ts';
import { seed } from '../../services/lib/scenes.ts';
import { Store } from '../../services/lib/store.ts';
import { fetchTrace, tag } from '../support/backends.ts';
import { pollUntil } from '../support/poll.ts';
import { spawnNode, type RunningApp } from '../support/spawn.ts';
import { find, tree, type Node } from '../support/trace-tree.ts';

const queue = `etl-chunks-${randomUUID().slice(0, 8)}`;
let listener: RunningApp;
let base: string;

beforeAll(async () => {
  await seed(new Store(demoConfig().s3));
  listener = spawnNode(['--require', './instrumentation', 'etl/listener/main.ts'], {
    OTEL_SERVICE_NAME: 'etl-listener',
    OBSERVATORY_ETL_PORT: '0',
    OBSERVATORY_ETL_DISPATCH: 'sqs',
    OBSERVATORY_ETL_CHUNK_QUEUE: queue,
    OBSERVATORY_ETL_RESULT_QUEUE: `${queue}-results`,
    OBSERVATORY_ETL_ALLOW_FAULTS: 'true',
    OBSERVATORY_ETL_CONCURRENCY: '2',
    OBSERVATORY_ETL_RETRY_BASE_MS: '200',
    OTEL_BSP_SCHEDULE_DELAY: '500',
  });
  const [, port] = await listener.waitForLine(/^LISTENING (\d+)$/, 30_000);
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  if (!listener) return;
  listener.child.kill('SIGTERM');
  await listener.exited;
});

async function runJob(spec: Record<string, unknown>): Promise<JobView> {
  const response = await fetch(`${base}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  expect(response.status, await response.clone().text()).toBe(202);
  const { id } = (await response.json()) as JobView;
  return pollUntil(
    `job ${id} to finish`,
    async () => {
      const view = (await (await fetch(`${base}/jobs/${id}`)).json()) as JobView;
      return view.status === 'queued' || view.status === 'running' ? undefined : view;
    },
    { timeoutMs: 60_000 },
  );
}

const jobTrace = (job: JobView) =>
  fetchTrace(job.trace_id, (trace) => trace.spans.some((s) => s.operationName === 'etl.job crop_stats'));
const producers = (nodes: Node[]) =>
  find(nodes, (n) => n.kind === 'producer' && n.name === 'etl.chunk crop_stats');
const invocations = (node: Node) => node.children.filter((c) => c.name === 'crop_stats invoke');

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
    const settings = { ...sqsSettings(), chunkQueue: queue };
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
