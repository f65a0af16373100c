/**
 * Chaos, short form (the long one is `npm run bench -- chaos --long`): on a stack of its own, one component at a
 * time is stopped under steady load for 12 s and started again, and what was sent is counted against what arrived,
 * by ID. Jaeger and the S3 store must lose nothing the Collector accepted; the Collector being away must not fail a
 * single app request nor grow its memory by more than 50 MiB, and the app's `deliveries()` must count exactly what
 * never arrived. An ETL job with sandboxes killed mid-chunk and a poison chunk must end `partial` with the reasons,
 * in both dispatch modes, with every chunk accounted for. Each scenario's figures are printed for docs/testing.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChaosStack,
  collectorOutage,
  etlChaos,
  jaegerOutage,
  SHORT,
  SHORT_ETL,
  storeOutage,
  type Figures,
} from '../../bench/chaos/scenarios.ts';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { etlConfig } from '../../etl/config.ts';
import { deadLetterQueueName, sqsClient, type ChunkMessage } from '../../etl/sqs/queues.ts';
import { pollUntil } from '../support/poll.ts';

const stack = new ChaosStack(25100);
const print = (f: Figures) => process.stderr.write(`[chaos] ${JSON.stringify(f)}\n`);

beforeAll(async () => {
  await stack.up();
}, 180_000);
afterAll(async () => {
  await stack.down();
}, 60_000);

describe('Chaos', () => {
  it('loses no span of a request answered while Jaeger was down', { timeout: 240_000 }, async () => {
    const figures = await jaegerOutage(stack, SHORT);
    print(figures);
    expect(figures.details.requestsDuringOutage).toBeGreaterThan(SHORT.rate * SHORT.outageSeconds * 0.5);
    expect(figures.details.incompleteTraces).toEqual([]);
    expect(figures.lost).toBe(0);
    expect(figures.received).toBe(figures.sent);
  });

  it(
    'loses no tracked event while the S3 store was down, and keeps each once after compaction',
    { timeout: 300_000 },
    async () => {
      const figures = await storeOutage(stack, SHORT);
      print(figures);
      expect(figures.sent).toBeGreaterThan(SHORT.rate * (SHORT.leadSeconds + SHORT.outageSeconds) * 0.5);
      expect(figures.details.missing).toEqual([]);
      expect(figures.lost).toBe(0);
      expect(figures.details.curatedMissing).toBe(0);
      expect(figures.details.curatedTwice).toBe(0);
      expect(figures.details.curatedRows).toBe(figures.sent);
    },
  );

  it(
    'fails no app request while the Collector is down, bounds its memory, and counts exactly what was dropped',
    { timeout: 240_000 },
    async () => {
      const figures = await collectorOutage(stack, SHORT);
      print(figures);
      expect(figures.details.failedRequests).toBe(0);
      expect(figures.rssGrowthMiB!).toBeLessThanOrEqual(50);
      const deliveries = figures.details.deliveries as {
        offered: number;
        delivered: number;
        dropped: number;
      };
      expect(figures.sent).toBeGreaterThan(0);
      // What the SDK says it delivered is what Jaeger has; what it counts as dropped is exactly the rest.
      expect(figures.received).toBe(deliveries.delivered);
      expect(deliveries.dropped).toBe(figures.lost);
      expect(figures.duplicates).toBe(0);
    },
  );

  for (const dispatch of ['fleet', 'sqs'] as const) {
    it(
      `retries a sandbox killed mid-chunk and dead-letters a poison chunk with the reason (${dispatch} dispatch)`,
      { timeout: 360_000 },
      async () => {
        const { job, queue, ...figures } = await etlChaos(stack, { dispatch, ...SHORT_ETL });
        print(figures);
        expect(job.status).toBe('partial');
        expect(figures.lost).toBe(0);
        expect(figures.duplicates).toBe(0);
        expect(job.chunks.done + job.chunks.failed).toBe(job.chunks.total);
        // One outside kill cannot make a chunk fail three times: only the two chunks that fail every attempt end dead.
        expect(job.dead_letters.sort((a, b) => a.chunk_index - b.chunk_index)).toEqual([
          { chunk_index: 1, attempts: 3, error: 'SandboxFailure: sandbox exited mid-invocation (SIGKILL)' },
          { chunk_index: 2, attempts: 3, error: 'Error: injected fault: chunk 2 attempt 3' },
        ]);
        // Chunk 0 was killed once and retried, chunks 1 and 2 twice each, plus whatever the outside kill hit.
        expect(job.chunks.retried).toBeGreaterThanOrEqual(5);
        if (dispatch === 'sqs') {
          // The queue dead-lettered the same two chunks.
          const settings = etlConfig({ ...process.env, ...stack.env }).sqs;
          const client = sqsClient(settings);
          const dlq = `${settings.endpoint}/000000000000/${deadLetterQueueName(queue)}`;
          const lettered = new Set<number>();
          await pollUntil(`chunks 1 and 2 of ${job.id} in ${deadLetterQueueName(queue)}`, async () => {
            const { Messages = [] } = await client.send(
              new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
            );
            for (const m of Messages) lettered.add((JSON.parse(m.Body!) as ChunkMessage).event.chunk_index);
            return lettered.size >= 2 ? true : undefined;
          });
          expect([...lettered].sort()).toEqual([1, 2]);
        }
      },
    );
  }
});
