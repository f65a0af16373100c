/**
 * A stand-in for the AWS Lambda Node.js runtime, for one invocation of an unzipped deployment artifact: started by a
 * test with the function's environment (NODE_OPTIONS from the template, so the preload loads first, as on Lambda),
 * in LAMBDA_TASK_ROOT as its working directory. It does what the runtime's bootstrap does: resolve `_HANDLER`
 * (`<module path>.<export>`) against the task root, trying the extensions the runtime tries, import the module, and
 * call the export with the event and a context object. The result (or the error) is printed as one JSON line; then
 * the process exits at once, as a sandbox that is frozen after returning would do nothing more.
 *
 *   node test/support/lambda-runtime.ts <event.json>
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

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

const event = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as unknown;
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
const timeoutMs = Number(process.env.OBSERVATORY_TEST_LAMBDA_TIMEOUT_MS ?? 30_000);
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
  const result = (await (handler as (e: unknown, c: unknown) => Promise<unknown>)(event, context)) ?? null;
  process.stdout.write(`${JSON.stringify({ ok: true, requestId: context.awsRequestId, result })}\n`);
} catch (error) {
  const failure = error instanceof Error ? error : new Error(String(error));
  process.stdout.write(
    `${JSON.stringify({ ok: false, errorType: failure.name, errorMessage: failure.message })}\n`,
  );
}
process.exit(0);
