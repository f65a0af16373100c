/**
 * The entry AWS Lambda calls when the chunk queue (SQS) triggers a worker: each message body is a ChunkEvent, trace
 * context included. It runs the same handler and the same invocation wrapper as the local sandbox, so the trace has
 * the same shape on AWS; a failed chunk is reported back as a batch item failure, so SQS retries it and, after
 * maxReceiveCount, moves it to the dead-letter queue; each attempt's outcome also goes to the results queue, where
 * the listener reads it. Deploy with the preload in NODE_OPTIONS (deploy/aws/etl).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { etlConfig } from '../config.ts';
import { reportResult, sqsClient } from '../sqs/queues.ts';
import { runInvocation } from '../runtime/invocation.ts';
import type { ChunkEvent, LambdaContext } from '../types.ts';
import { handler as cropStats } from './crop-stats.ts';

interface SqsEvent {
  Records: { messageId: string; body: string; attributes?: { ApproximateReceiveCount?: string } }[];
}

let coldStart = true;
let results: SQSClient | undefined;

export const handler = async (
  event: SqsEvent,
  context: LambdaContext,
): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> => {
  const config = etlConfig();
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    const chunk = JSON.parse(record.body) as ChunkEvent;
    chunk.attempt = Number(record.attributes?.ApproximateReceiveCount ?? chunk.attempt ?? 1);
    const result = await runInvocation({
      handler: cropStats as never,
      event: chunk,
      context,
      coldStart,
      flushTimeoutMs: config.flushTimeoutMs,
      cloud: config,
    });
    coldStart = false;
    // The listener (SqsDispatcher) learns every attempt's outcome from the results queue.
    const resultsUrl = config.sqs.resultQueueUrl;
    if (resultsUrl) {
      results ??= sqsClient(config.sqs);
      await reportResult(results, resultsUrl, {
        job_id: chunk.job_id,
        chunk_index: chunk.chunk_index,
        attempt: chunk.attempt,
        final: result.ok || chunk.attempt >= config.maxAttempts,
        result,
      });
    }
    if (!result.ok) failures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures: failures };
};
