/**
 * The contracts between the listener, the dispatcher and the workers. Handlers have the AWS Lambda Node.js
 * signature, `async (event, context)`, and depend on nothing local: the same modules deploy to Lambda.
 */

/** The functions the fleet can run; etl/handlers/index.ts maps each to its module. */
export const FUNCTION_NAMES = ['crop_stats', 'compaction'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** W3C trace context carried inside the payload: queue and async-invoke hops may drop transport metadata. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
  baggage?: string;
}

/** A deliberate failure for tests and the demo's fault knobs (accepted only when the listener allows faults). */
export interface Fault {
  /** throw: the handler fails; hang: it never returns (the timeout fires); crash: the sandbox process dies. */
  kind: 'throw' | 'hang' | 'crash';
  /** Fail the first N attempts; a number ≥ the attempt limit makes the chunk poison. */
  attempts: number;
}

export interface ChunkEvent<P = unknown> {
  job_id: string;
  kind: string;
  chunk_index: number;
  chunk_count: number;
  /** 1 for the first try. */
  attempt: number;
  payload: P;
  trace: TraceCarrier;
  fault?: Fault;
}

/** The subset of the Lambda context object our handlers use. */
export interface LambdaContext {
  functionName: string;
  functionVersion: string;
  awsRequestId: string;
  memoryLimitInMB: string;
  invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}

export type Handler<P = unknown, R = unknown> = (event: ChunkEvent<P>, context: LambdaContext) => Promise<R>;

export interface InvocationResult<R = unknown> {
  ok: boolean;
  value?: R;
  error?: { name: string; message: string };
  /** Wall time of the handler, as Lambda bills it (rounded up to the millisecond). */
  billedMs: number;
  coldStart: boolean;
  invocationId: string;
  /** With a dispatcher that retries by itself: how many attempts the chunk took. */
  attempts?: number;
}
