/**
 * The entry AWS Lambda calls when the chunk queue (SQS) triggers a worker, through its event source mapping: an
 * event of `Records`, each body a chunk message exactly as the listener's SqsDispatcher sends it —
 * `{function, event}`, the ChunkEvent with its trace context inside. Each record runs the handler its message names
 * (any function of etl/handlers/index.ts) in the same invocation wrapper as the local sandbox, so the trace has the
 * same shape on AWS, and each attempt's outcome goes to the results queue with the job ID, chunk index and attempt
 * (the record's ApproximateReceiveCount), where the listener reads it.
 *
 * It never throws: a thrown invocation would fail the whole batch, healthy records too. A record that fails — a
 * body that is not a chunk message, a handler error, a result the results queue did not take — is one batch item
 * failure (the template turns on ReportBatchItemFailures): SQS delivers it again after the visibility timeout and,
 * after maxReceiveCount receives, moves it to the dead-letter queue. Deploy with the preload in NODE_OPTIONS
 * (deploy/aws/etl).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { logger } from '../../instrumentation/api.ts';
import { etlConfig, type EtlConfig } from '../config.ts';
import { injectFault } from '../runtime/faults.ts';
import { runInvocation } from '../runtime/invocation.ts';
import { parseChunkMessage, reportResult, sqsClient, type ChunkMessage } from '../sqs/queues.ts';
import type { InvocationResult, LambdaContext } from '../types.ts';
import { loadHandler } from './index.ts';

/** One record of the event Lambda's SQS event source mapping sends (the fields this entry reads). */
export interface SqsRecord {
  messageId: string;
  receiptHandle?: string;
  body: string;
  attributes?: { ApproximateReceiveCount?: string };
  eventSourceARN?: string;
}

export interface SqsEvent {
  Records: SqsRecord[];
}

/** The partial batch response: the records SQS must deliver again; every other record is deleted. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

let coldStart = true;
let results: SQSClient | undefined;

export const handler = async (event: SqsEvent, context: LambdaContext): Promise<SqsBatchResponse> => {
  const config = etlConfig();
  const records = Array.isArray(event?.Records) ? event.Records : [];
  const batchItemFailures: SqsBatchResponse['batchItemFailures'] = [];
  // In order, one at a time: the records of a batch share one invocation's timeout and memory (docs/etl.md).
  for (const record of records) {
    if (!(await processRecord(record, context, config)))
      batchItemFailures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures };
};

/** True when the record is done with (SQS may delete it); false makes it a batch item failure. Never throws. */
async function processRecord(record: SqsRecord, context: LambdaContext, config: EtlConfig): Promise<boolean> {
  try {
    const message = parseChunkMessage(record?.body);
    if (typeof message === 'string') {
      logger.error(
        { message_id: record?.messageId, queue: record?.eventSourceARN, reason: message },
        'malformed chunk message: a batch item failure, dead-lettered by the queue after its last receive',
      );
      return false;
    }
    const attempt = receiveCount(record);
    const result = await invoke(message, attempt, context, config);
    await report(config, message, attempt, result);
    return result.ok;
  } catch (error) {
    // The result could not be reported (or worse): deliver the record again; chunks are idempotent.
    logger.error(
      { message_id: record?.messageId, queue: record?.eventSourceARN, err: error },
      'processing a chunk message failed; a batch item failure',
    );
    return false;
  }
}

/** The attempt is how often SQS has delivered the message: its ApproximateReceiveCount. */
function receiveCount(record: SqsRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

async function invoke(
  { function: functionName, event }: ChunkMessage,
  attempt: number,
  context: LambdaContext,
  config: EtlConfig,
): Promise<InvocationResult> {
  const cold = coldStart;
  coldStart = false;
  return runInvocation({
    // Loaded inside the invocation span: a handler that fails to load is that invocation's error.
    handler: async (chunk, lambda) => (await loadHandler(functionName))(chunk, lambda),
    event: { ...event, attempt },
    // One deployed function runs every registered handler: spans and metrics name the handler, as locally.
    context: {
      functionName,
      functionVersion: context.functionVersion,
      awsRequestId: context.awsRequestId,
      memoryLimitInMB: context.memoryLimitInMB,
      invokedFunctionArn: context.invokedFunctionArn,
      getRemainingTimeInMillis: () => context.getRemainingTimeInMillis(),
    },
    coldStart: cold,
    flushTimeoutMs: config.flushTimeoutMs,
    cloud: config,
    ...(config.allowFaults ? { before: injectFault } : {}),
  });
}

/** The attempt's outcome for the listener; `final` when no attempt follows (success, or the last receive). */
async function report(
  config: EtlConfig,
  { event }: ChunkMessage,
  attempt: number,
  result: InvocationResult,
): Promise<void> {
  const url = config.sqs.resultQueueUrl;
  if (!url) {
    logger.warn({ job_id: event.job_id }, 'OBSERVATORY_ETL_RESULT_QUEUE_URL is not set: no result reported');
    return;
  }
  results ??= sqsClient(config.sqs);
  await reportResult(results, url, {
    job_id: event.job_id,
    chunk_index: event.chunk_index,
    attempt,
    final: result.ok || attempt >= config.maxAttempts,
    result,
  });
}
