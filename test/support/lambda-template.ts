/**
 * The ETL worker's SAM template (deploy/aws/etl/template.yaml) as data, and its deployment artifact unzipped: what
 * the tests that run the artifact as Lambda would need to read from it — the function's properties and environment,
 * its SQS event source mapping, the chunk queue's visibility timeout and redrive policy — so that they run it with
 * the settings that deploy, not copies of them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../common/paths.ts';

export interface FunctionProperties {
  CodeUri?: string;
  Handler?: string;
  Timeout?: unknown;
  ReservedConcurrentExecutions?: unknown;
  Environment?: { Variables: Record<string, unknown> };
  Policies?: Record<string, unknown>[];
  Events?: Record<
    string,
    {
      Type: string;
      Properties: { Queue?: unknown; BatchSize?: number; FunctionResponseTypes?: string[] };
    }
  >;
}

export interface EtlTemplate {
  Parameters: Record<string, { Default?: unknown; MinValue?: number; MaxValue?: number }>;
  Globals: {
    Function: {
      Runtime: string;
      Timeout: unknown;
      MemorySize: unknown;
      Environment: { Variables: Record<string, unknown> };
    };
  };
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

/** The template, with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub) kept as `{ tag: value }`. */
export function etlTemplate(): EtlTemplate {
  const text = readFileSync(join(REPO_ROOT, 'deploy', 'aws', 'etl', 'template.yaml'), 'utf8');
  const customTags = ['Ref', 'GetAtt', 'Sub'].map((name) => ({
    tag: `!${name}`,
    resolve: (value: string) => ({ [name]: value }),
  }));
  return parse(text, { customTags }) as EtlTemplate;
}

/** The logical name of the template's one worker function. */
export const WORKER_FUNCTION = 'EtlWorkerFunction';

export const workerFunction = (template = etlTemplate()): FunctionProperties =>
  template.Resources[WORKER_FUNCTION]!.Properties as FunctionProperties;

/** A value that is a literal, or a !Ref to a parameter or to one of `refs`. */
export function resolveValue(
  template: EtlTemplate,
  value: unknown,
  refs: Record<string, string> = {},
): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  const ref = (value as { Ref?: string }).Ref;
  if (ref && ref in refs) return refs[ref]!;
  if (ref && template.Parameters[ref]?.Default !== undefined)
    return String(template.Parameters[ref]!.Default);
  throw new Error(`the test cannot resolve ${JSON.stringify(value)}`);
}

/** The function's environment as Lambda would set it: globals, then the function's own, references resolved. */
export function functionEnvironment(
  refs: Record<string, string>,
  template = etlTemplate(),
): Record<string, string> {
  const variables = {
    ...template.Globals.Function.Environment.Variables,
    ...workerFunction(template).Environment!.Variables,
  };
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [name, resolveValue(template, value, refs)]),
  );
}

/** The SQS event source mapping's settings and the queue behaviour it relies on, as the template deploys them. */
export function sqsMapping(template = etlTemplate()) {
  const [event] = Object.values(workerFunction(template).Events ?? {}).filter((e) => e.Type === 'SQS');
  const queue = template.Resources.ChunkQueue!.Properties as {
    VisibilityTimeout: number;
    RedrivePolicy: { maxReceiveCount: number };
    FifoQueue?: boolean;
  };
  return {
    queue: event!.Properties.Queue,
    batchSize: event!.Properties.BatchSize ?? 10,
    reportBatchItemFailures: (event!.Properties.FunctionResponseTypes ?? []).includes(
      'ReportBatchItemFailures',
    ),
    visibilityTimeoutSeconds: queue.VisibilityTimeout,
    maxReceiveCount: queue.RedrivePolicy.maxReceiveCount,
    fifo: queue.FifoQueue === true,
  };
}

/** Unzips the artifact into `taskRoot`, as Lambda lays out /var/task. */
export function unzipArtifact(zipPath: string, taskRoot: string): void {
  for (const [path, data] of Object.entries(unzipSync(readFileSync(zipPath)))) {
    if (path.endsWith('/')) continue;
    mkdirSync(dirname(join(taskRoot, path)), { recursive: true });
    writeFileSync(join(taskRoot, path), data);
  }
}
