/**
 * One invocation as every runtime runs it — the local sandbox and the SQS-triggered Lambda alike: continue the trace
 * from the payload, run the handler inside a FaaS invocation span, record its duration, and flush traces, metrics
 * and logs within a bound before returning, on success and on error alike (a frozen or reaped sandbox loses
 * whatever was not sent). The upstream Lambda instrumentation does not flush logs; this does.
 */
import { context, metrics, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { flush } from '../../instrumentation/api.ts';
import { ATTRIBUTES, METRICS, SEMCONV } from '../../common/names.ts';
import type { ChunkEvent, Handler, InvocationResult, LambdaContext } from '../types.ts';

const tracer = trace.getTracer('observatory-etl-worker');
const duration = metrics
  .getMeter('observatory-etl-worker')
  .createHistogram(METRICS.etlInvocationDuration.name, { unit: METRICS.etlInvocationDuration.unit });

export interface InvocationOptions {
  handler: Handler;
  event: ChunkEvent;
  context: LambdaContext;
  coldStart: boolean;
  flushTimeoutMs: number;
  /** Where it runs, for the cloud.* attributes (EtlConfig's onAws and region). */
  cloud: { onAws: boolean; region: string };
  /** Runs inside the span before the handler (the local runtime's fault injection). */
  before?: (event: ChunkEvent) => Promise<void>;
}

export async function runInvocation(options: InvocationOptions): Promise<InvocationResult> {
  const { event, context: lambda, coldStart } = options;
  const started = performance.now();
  const parent = propagation.extract(context.active(), event.trace);
  const result = await tracer.startActiveSpan(
    `${lambda.functionName} invoke`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [SEMCONV.faasTrigger]: 'pubsub',
        [SEMCONV.faasInvocationId]: lambda.awsRequestId,
        [SEMCONV.faasColdstart]: coldStart,
        [SEMCONV.faasName]: lambda.functionName,
        [SEMCONV.faasMaxMemory]: Number(lambda.memoryLimitInMB) * 1024 * 1024,
        [SEMCONV.cloudProvider]: options.cloud.onAws ? 'aws' : 'local',
        [SEMCONV.cloudRegion]: options.cloud.region,
        [ATTRIBUTES.jobId]: event.job_id,
        [ATTRIBUTES.jobKind]: event.kind,
        [ATTRIBUTES.chunkIndex]: event.chunk_index,
        [ATTRIBUTES.chunkCount]: event.chunk_count,
        [ATTRIBUTES.attempt]: event.attempt,
      },
    },
    parent,
    async (span): Promise<InvocationResult> => {
      const base = { billedMs: 0, coldStart, invocationId: lambda.awsRequestId };
      try {
        await options.before?.(event);
        return { ok: true, value: await options.handler(event, lambda), ...base };
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        span.recordException(failure);
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
        return { ok: false, error: { name: failure.name, message: failure.message }, ...base };
      } finally {
        span.end();
      }
    },
  );
  const elapsed = performance.now() - started;
  result.billedMs = Math.ceil(elapsed);
  duration.record(elapsed / 1000, {
    [SEMCONV.faasName]: lambda.functionName,
    [SEMCONV.faasColdstart]: coldStart,
    outcome: result.ok ? 'ok' : 'error',
  });
  await flush(options.flushTimeoutMs);
  return result;
}
