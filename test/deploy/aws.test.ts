/**
 * The AWS side of the ETL: the SAM template passes cfn-lint, and the SQS entry point Lambda calls runs the same
 * handler as the local fleet, reporting a failed chunk back to SQS as a batch item failure (so SQS retries it and
 * then dead-letters it) and every attempt's outcome on the results queue the listener reads.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { demoConfig } from '../../services/config.ts';
import { days, seed, tiles } from '../../imagery/scenes.ts';
import { S3Store } from '../../common/s3-store.ts';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { resultKey } from '../../etl/handlers/crop-stats.ts';
import { etlConfig } from '../../etl/config.ts';
import { sqsClient, type ResultMessage } from '../../etl/sqs/queues.ts';
import { readObject } from '../support/backends.ts';

const run = promisify(execFile);

describe('deploy/aws/etl', () => {
  it('passes cfn-lint', async () => {
    const result = await run('cfn-lint', [join(REPO_ROOT, 'deploy', 'aws', 'etl', 'template.yaml')]).then(
      () => '',
      (error: { stdout?: string; message: string }) => error.stdout || error.message,
    );
    expect(result).toBe('');
  });

  it('processes an SQS batch of chunk messages and reports only the failed and malformed messages', async () => {
    const s3 = demoConfig().s3;
    await seed(S3Store.fromSettings(s3));
    vi.stubEnv('OBSERVATORY_S3_ENDPOINT', s3.endpoint!);
    // The results queue on the local SQS-compatible server stands in for the template's ResultQueue.
    const sqs = sqsClient(etlConfig().sqs);
    const resultsUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `aws-results-${Date.now()}` })))
      .QueueUrl!;
    vi.stubEnv('OBSERVATORY_ETL_RESULT_QUEUE_URL', resultsUrl);
    const { handler } = await import('../../etl/handlers/aws-sqs.ts');
    const jobId = `job-aws-${Date.now()}`;
    // The body the listener's SqsDispatcher sends: the function to run and its chunk event.
    const chunk = (index: number, payload: unknown) =>
      JSON.stringify({
        function: 'crop_stats',
        event: {
          job_id: jobId,
          kind: 'crop_stats',
          chunk_index: index,
          chunk_count: 2,
          attempt: 1,
          payload,
          trace: {},
        },
      });
    const context = {
      functionName: 'crop_stats',
      functionVersion: '$LATEST',
      awsRequestId: 'req-1',
      memoryLimitInMB: '512',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:crop_stats',
      getRemainingTimeInMillis: () => 30_000,
    };
    const result = await handler(
      {
        Records: [
          { messageId: 'm-ok', body: chunk(0, { tile: tiles()[0], date: days()[0] }) },
          {
            messageId: 'm-bad',
            body: chunk(1, { tile: null, date: days()[0] }),
            attributes: { ApproximateReceiveCount: '3' },
          },
          { messageId: 'm-not-json', body: 'this is { not json' },
          {
            messageId: 'm-bare-chunk',
            body: JSON.stringify((JSON.parse(chunk(0, {})) as { event: unknown }).event),
          },
        ],
      },
      context,
    );
    vi.unstubAllEnvs();
    // A malformed body is one batch item failure, never a thrown invocation that would fail the good record too.
    expect(result).toEqual({
      batchItemFailures: [
        { itemIdentifier: 'm-bad' },
        { itemIdentifier: 'm-not-json' },
        { itemIdentifier: 'm-bare-chunk' },
      ],
    });
    expect(JSON.parse(await readObject(resultKey(jobId, 0)))).toMatchObject({
      job_id: jobId,
      tile_id: 'T00',
    });
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: resultsUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const reported = Messages.map((m) => JSON.parse(m.Body!) as ResultMessage).sort(
      (a, b) => a.chunk_index - b.chunk_index,
    );
    // Each attempt is the record's receive count; the third of three is final.
    expect(reported.map((r) => [r.job_id, r.chunk_index, r.attempt, r.final, r.result.ok])).toEqual([
      [jobId, 0, 1, true, true],
      [jobId, 1, 3, true, false],
    ]);
  });
});
