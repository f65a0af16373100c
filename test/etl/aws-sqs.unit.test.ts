/**
 * The Lambda entry point takes whatever the queue holds: a record whose body is not the listener's chunk message
 * (not JSON, a bare chunk event, an unknown function) is one batch item failure, named in the log, and an event
 * that is not an SQS batch at all is no failure; nothing is ever thrown, since a thrown invocation would return the
 * whole batch to the queue, healthy records too.
 */
import { describe, expect, it } from 'vitest';
import { handler } from '../../etl/handlers/aws-sqs.ts';

const context = {
  functionName: 'observatory-etl-worker',
  functionVersion: '$LATEST',
  awsRequestId: 'req-unit',
  memoryLimitInMB: '512',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:observatory-etl-worker',
  getRemainingTimeInMillis: () => 30_000,
};

const bareChunk = {
  job_id: 'job-1',
  kind: 'crop_stats',
  chunk_index: 0,
  chunk_count: 1,
  attempt: 1,
  payload: {},
  trace: {},
};

describe('The Lambda SQS entry point', () => {
  it('turns each malformed body into one batch item failure and throws nothing', async () => {
    const bodies: Record<string, unknown> = {
      'not-json': 'this is { not json',
      'bare-chunk': JSON.stringify(bareChunk),
      'unknown-function': JSON.stringify({ function: 'rm -rf', event: bareChunk }),
      'no-event': JSON.stringify({ function: 'crop_stats' }),
      'no-body': undefined,
    };
    const result = await handler(
      {
        Records: Object.entries(bodies).map(([messageId, body]) => ({
          messageId,
          body: body as string,
          attributes: { ApproximateReceiveCount: '1' },
        })),
      },
      context,
    );
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(Object.keys(bodies));
  });

  it('answers an event that is no SQS batch with no failures', async () => {
    for (const event of [{}, null, { Records: 'x' }])
      expect(await handler(event as never, context)).toEqual({ batchItemFailures: [] });
  });
});
