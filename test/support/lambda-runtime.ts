/**
 * A stand-in for the AWS Lambda Node.js runtime, for an unzipped deployment artifact: started by a test with the
 * function's environment (NODE_OPTIONS from the template, so the preload loads first, as on Lambda), in
 * LAMBDA_TASK_ROOT as its working directory. It does what the runtime's bootstrap does: resolve `_HANDLER`
 * (`<module path>.<export>`) against the task root, trying the extensions the runtime tries, import the module, and
 * call the export with the event and a context object.
 *
 *   node test/support/lambda-runtime.ts <event.json>   one invocation: the result (or the error) as one JSON line on
 *                                                       stdout, then the process exits at once, as a sandbox frozen
 *                                                       after returning would do nothing more
 *   node test/support/lambda-runtime.ts --serve        an execution environment kept warm, as Lambda keeps one: it
 *                                                       loads the handler once, says `{type: 'ready'}` on the IPC
 *                                                       channel, then runs each `{type: 'invoke', event, timeoutMs}`
 *                                                       it receives, one at a time, answering `{type: 'result', …}`
 *                                                       (test/support/event-source-mapping.ts drives it)
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What one invocation returned (or threw), as the Lambda service sees it. */
export type InvocationOutcome =
  | { ok: true; requestId: string; result: unknown }
  | { ok: false; requestId: string; errorType: string; errorMessage: string };

type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

async function loadHandler(): Promise<LambdaHandler> {
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const handlerSpec = process.env._HANDLER;
  if (!handlerSpec) throw new Error('_HANDLER is not set');
  const dot = handlerSpec.lastIndexOf('.');
  const modulePath = handlerSpec.slice(0, dot);
  const exportName = handlerSpec.slice(dot + 1);
  const file = ['.js', '.mjs', '.cjs']
    .map((extension) => join(taskRoot, modulePath + extension))
    .find((candidate) => existsSync(candidate));
  if (!file) throw new Error(`Runtime.ImportModuleError: Cannot find module '${modulePath}' in ${taskRoot}`);
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler = module[exportName];
  if (typeof handler !== 'function')
    throw new Error(`Runtime.HandlerNotFound: ${handlerSpec} is undefined or not exported`);
  return handler as LambdaHandler;
}

async function invoke(handler: LambdaHandler, event: unknown, timeoutMs: number): Promise<InvocationOutcome> {
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    awsRequestId: randomUUID(),
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '512',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${functionName}`,
    logGroupName: `/aws/lambda/${functionName}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = (await handler(event, context)) ?? null;
    return { ok: true, requestId: context.awsRequestId, result };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    return {
      ok: false,
      requestId: context.awsRequestId,
      errorType: failure.name,
      errorMessage: failure.message,
    };
  }
}

const handler = await loadHandler();
if (process.argv[2] === '--serve') {
  // One invocation at a time, as an execution environment runs them; the driver never sends the next one earlier.
  process.on('message', (message: { type?: string; event?: unknown; timeoutMs?: number }) => {
    if (message?.type !== 'invoke') return;
    void invoke(handler, message.event, message.timeoutMs ?? 30_000).then((outcome) =>
      process.send!({ type: 'result', outcome }),
    );
  });
  process.send!({ type: 'ready' });
} else {
  const event = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as unknown;
  const timeoutMs = Number(process.env.OBSERVATORY_TEST_LAMBDA_TIMEOUT_MS ?? 30_000);
  process.stdout.write(`${JSON.stringify(await invoke(handler, event, timeoutMs))}\n`);
  process.exit(0);
}
