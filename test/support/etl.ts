/**
 * An ETL listener of the test's own (free port, the test's settings) and the helpers to run jobs on it and read
 * their traces: shared by the fleet and SQS tests.
 */
import { expect } from 'vitest';
import type { JobView } from '../../etl/listener/jobs.ts';
import { s3Settings } from '../../common/config.ts';
import { seed } from '../../imagery/scenes.ts';
import { S3Store } from '../../common/s3-store.ts';
import { fetchTrace, type JaegerTrace } from './backends.ts';
import { pollUntil } from './poll.ts';
import { spawnNode, type RunningApp } from './spawn.ts';
import { find, type Node } from './trace-tree.ts';

export interface TestListener {
  url: string;
  /** The listener process's ID. */
  pid: number;
  /** Every job run through it, in order. */
  ran: JobView[];
  runJob(spec: Record<string, unknown>): Promise<JobView>;
  stop(): Promise<void>;
}

/**
 * Seeds the catalog in the store `env` names (the listener's), starts `etl/listener/main.ts` under the preload with
 * `env`, and waits until it listens.
 */
export async function startListener(env: Record<string, string>): Promise<TestListener> {
  await seed(S3Store.fromSettings(s3Settings({ ...process.env, ...env })));
  const app: RunningApp = spawnNode(['--require', './instrumentation', 'etl/listener/main.ts'], {
    OTEL_SERVICE_NAME: 'etl-listener',
    OBSERVATORY_ETL_PORT: '0',
    OBSERVATORY_ETL_ALLOW_FAULTS: 'true',
    OTEL_BSP_SCHEDULE_DELAY: '500',
    OTEL_BLRP_SCHEDULE_DELAY: '500',
    ...env,
  });
  const [, port] = await app.waitForLine(/^LISTENING (\d+)$/, 30_000);
  const url = `http://127.0.0.1:${port}`;
  const ran: JobView[] = [];
  return {
    url,
    pid: app.child.pid!,
    ran,
    async runJob(spec) {
      const response = await fetch(`${url}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spec),
      });
      expect(response.status, await response.clone().text()).toBe(202);
      const { id } = (await response.json()) as JobView;
      // A listener that died ends the wait at once, and the failure shows what it said last.
      const gone = new AbortController();
      void app.exited.then(() => gone.abort());
      const view = await pollUntil(
        `job ${id} to finish`,
        async () => {
          if (gone.signal.aborted) {
            const { code, signal } = await app.exited;
            throw new Error(
              `the listener exited (${signal ?? `code ${code}`}); stderr: ${app.stderr.join('').slice(-2000)}; ` +
                `last stdout lines: ${app.stdout.slice(-5).join('\n')}`,
            );
          }
          const job = (await (await fetch(`${url}/jobs/${id}`)).json()) as JobView;
          return job.status === 'queued' || job.status === 'running' ? undefined : job;
        },
        { timeoutMs: 60_000, signal: gone.signal },
      );
      ran.push(view);
      return view;
    },
    async stop() {
      app.child.kill('SIGTERM');
      await app.exited;
    },
  };
}

/**
 * The job's trace once its last span — the job span, ended after the fan-in — has arrived. Workers flush before they
 * acknowledge, so by then every acknowledged invocation's spans have reached the Collector before it.
 */
export const jobTrace = (job: JobView, timeoutMs?: number): Promise<JaegerTrace> =>
  fetchTrace(
    job.trace_id,
    (trace) => trace.spans.some((s) => s.operationName === `etl.job ${job.kind}`),
    timeoutMs,
  );

export const producers = (nodes: Node[]) =>
  find(nodes, (n) => n.kind === 'producer' && n.name === 'etl.chunk crop_stats');

export const invocations = (node: Node) => node.children.filter((c) => c.name === 'crop_stats invoke');
