/**
 * One Lambda-style sandbox: a process started under the preload, reused warm for many invocations, as Lambda reuses
 * an execution environment. It loads the function's handler once, then for each invocation (over IPC): continues the
 * trace from the payload, runs the handler inside a FaaS invocation span, flushes traces, metrics and logs within a
 * bound, and only then acknowledges — on success and on error alike.
 *   node --require ./instrumentation etl/runtime/worker.ts   (OBSERVATORY_ETL_FUNCTION=crop_stats)
 */
import { randomUUID } from 'node:crypto';
import { context, metrics, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { flush } from '../../instrumentation/api.ts';
import { METRICS } from '../../instrumentation/names.ts';
import { etlConfig } from '../config.ts';
import { FUNCTIONS, type FunctionName } from '../handlers/index.ts';
import type { ChunkEvent, Handler, InvocationResult, LambdaContext } from '../types.ts';

export interface InvokeMessage {
  type: 'invoke';
  event: ChunkEvent;
  timeoutMs: number;
}

const config = etlConfig();
const functionName = (process.env.OBSERVATORY_ETL_FUNCTION ?? 'crop_stats') as FunctionName;
const tracer = trace.getTracer('observatory-etl-worker');
const duration = metrics
  .getMeter('observatory-etl-worker')
  .createHistogram(METRICS.etlInvocationDuration.name, { unit: METRICS.etlInvocationDuration.unit });
const { handler } = (await import(
  new URL(`../handlers/${FUNCTIONS[functionName]}`, import.meta.url).href
)) as {
  handler: Handler;
};
let coldStart = true;

async function invoke({ event, timeoutMs }: InvokeMessage): Promise<InvocationResult> {
  const invocationId = randomUUID();
  const isCold = coldStart;
  coldStart = false;
  const started = performance.now();
  const lambdaContext: LambdaContext = {
    functionName,
    functionVersion: '$LATEST',
    awsRequestId: invocationId,
    memoryLimitInMB: String(config.memoryMb),
    invokedFunctionArn: `arn:local:lambda:local:000000000000:function:${functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (performance.now() - started)),
  };
  const parent = propagation.extract(context.active(), event.trace);
  const result = await tracer.startActiveSpan(
    `${functionName} invoke`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'faas.trigger': 'pubsub',
        'faas.invocation_id': invocationId,
        'faas.coldstart': isCold,
        'faas.name': functionName,
        'faas.max_memory': config.memoryMb * 1024 * 1024,
        'cloud.provider': process.env.AWS_LAMBDA_FUNCTION_NAME ? 'aws' : 'local',
        'cloud.region': process.env.AWS_REGION ?? 'local',
        'etl.job.id': event.job_id,
        'etl.job.kind': event.kind,
        'etl.chunk.index': event.chunk_index,
        'etl.chunk.count': event.chunk_count,
        'etl.attempt': event.attempt,
      },
    },
    parent,
    async (span): Promise<InvocationResult> => {
      try {
        await injectFault(event);
        const value = await handler(event, lambdaContext);
        return { ok: true, value, billedMs: 0, coldStart: isCold, invocationId };
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        span.recordException(failure);
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
        return {
          ok: false,
          error: { name: failure.name, message: failure.message },
          billedMs: 0,
          coldStart: isCold,
          invocationId,
        };
      } finally {
        span.end();
      }
    },
  );
  const elapsed = performance.now() - started;
  result.billedMs = Math.ceil(elapsed);
  duration.record(elapsed / 1000, {
    'faas.name': functionName,
    'faas.coldstart': isCold,
    outcome: result.ok ? 'ok' : 'error',
  });
  // Flush before acknowledging: once the sandbox is frozen or reaped, unsent telemetry is lost.
  await flush(config.flushTimeoutMs);
  return result;
}

/** Test and demo faults, requested in the job spec: fail the first N attempts of a chunk. */
async function injectFault(event: ChunkEvent): Promise<void> {
  const fault = event.fault;
  if (!fault || event.attempt > fault.attempts) return;
  if (fault.kind === 'throw')
    throw new Error(`injected fault: chunk ${event.chunk_index} attempt ${event.attempt}`);
  if (fault.kind === 'crash') process.kill(process.pid, 'SIGKILL');
  if (fault.kind === 'hang') await new Promise(() => {});
}

process.on('message', (message: InvokeMessage) => {
  if (message?.type !== 'invoke') return;
  void invoke(message).then((result) => process.send!({ type: 'result', result }));
});
process.send!({ type: 'ready' });
