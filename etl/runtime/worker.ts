/**
 * One Lambda-style sandbox: a process started under the preload, reused warm for many invocations, as Lambda reuses
 * an execution environment. It loads the function's handler once, then runs each invocation it receives over IPC
 * (runInvocation: trace continued from the payload, FaaS span, flush before acknowledging) and acknowledges.
 *   node --require ./instrumentation etl/runtime/worker.ts   (OBSERVATORY_ETL_FUNCTION=crop_stats)
 */
import { randomUUID } from 'node:crypto';
import { etlConfig } from '../config.ts';
import { loadHandler } from '../handlers/index.ts';
import type { ChunkEvent, LambdaContext } from '../types.ts';
import { injectFault } from './faults.ts';
import { runInvocation } from './invocation.ts';

export interface InvokeMessage {
  type: 'invoke';
  event: ChunkEvent;
  timeoutMs: number;
}

const config = etlConfig();
const { functionName } = config;
const handler = await loadHandler(functionName);
let coldStart = true;

async function invoke({ event, timeoutMs }: InvokeMessage) {
  const started = performance.now();
  const lambda: LambdaContext = {
    functionName,
    functionVersion: '$LATEST',
    awsRequestId: randomUUID(),
    memoryLimitInMB: String(config.memoryMb),
    invokedFunctionArn: `arn:local:lambda:local:000000000000:function:${functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (performance.now() - started)),
  };
  const cold = coldStart;
  coldStart = false;
  return runInvocation({
    handler,
    event,
    context: lambda,
    coldStart: cold,
    flushTimeoutMs: config.flushTimeoutMs,
    cloud: config,
    before: injectFault,
  });
}

process.on('message', (message: InvokeMessage) => {
  if (message?.type !== 'invoke') return;
  void invoke(message).then((result) => process.send!({ type: 'result', result }));
});
process.send!({ type: 'ready' });
