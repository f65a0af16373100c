/**
 * The listener's job runner: splits a job into chunks, dispatches each (retrying with backoff, dead-lettering what
 * fails every attempt), tracks progress, and runs the fan-in when every chunk is done or has finally failed.
 * One job is one trace: job span → per-chunk producer span (its context travels in the payload) → one worker
 * invocation span per attempt; the finalizer links to the chunk spans.
 */
import { randomUUID } from 'node:crypto';
import {
  context,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { logger } from '../../instrumentation/api.ts';
import { ATTRIBUTES, METRICS, SEMCONV } from '../../common/names.ts';
import type { S3Store } from '../../common/s3-store.ts';
import type { EtlConfig } from '../config.ts';
import type { Dispatcher } from '../dispatch.ts';
import { trackEtl } from '../events.ts';
import { costView, jobCost } from './cost.ts';
import type { FunctionName } from '../types.ts';
import { SandboxFailure } from '../runtime/fleet.ts';
import type { ChunkEvent, Fault, InvocationResult } from '../types.ts';

export type JobStatus = 'queued' | 'running' | 'done' | 'partial' | 'failed';

export interface ChunkPlan<P = unknown> {
  payload: P;
  fault?: Fault;
}

export interface JobView {
  id: string;
  kind: string;
  status: JobStatus;
  chunks: { total: number; done: number; failed: number; in_flight: number; retried: number };
  trace_id: string;
  created_at: string;
  finished_at?: string;
  cost?: { billed_gb_seconds: number; serverless_usd: number; always_on_usd: number; invocations: number };
  dead_letters: { chunk_index: number; attempts: number; error: string }[];
}

/** The SDK keeps at most 128 links per span; more are counted instead. */
const MAX_LINKS = 128;
const tracer = trace.getTracer('observatory-etl-listener');
const meter = metrics.getMeter('observatory-etl-listener');
const instruments = {
  jobs: meter.createCounter(METRICS.etlJobs.name, { unit: METRICS.etlJobs.unit }),
  chunks: meter.createCounter(METRICS.etlChunks.name, { unit: METRICS.etlChunks.unit }),
  concurrency: meter.createUpDownCounter(METRICS.etlConcurrency.name, { unit: METRICS.etlConcurrency.unit }),
  coldStarts: meter.createCounter(METRICS.etlColdStarts.name, { unit: METRICS.etlColdStarts.unit }),
  billed: meter.createCounter(METRICS.etlBilledGbSeconds.name, { unit: METRICS.etlBilledGbSeconds.unit }),
  cost: meter.createCounter(METRICS.etlCost.name, { unit: METRICS.etlCost.unit }),
};

export class JobRunner {
  private readonly jobs = new Map<string, JobView>();
  private readonly config: EtlConfig;
  private readonly dispatcher: Dispatcher;
  private readonly store: S3Store;

  constructor(config: EtlConfig, dispatcher: Dispatcher, store: S3Store) {
    this.config = config;
    this.dispatcher = dispatcher;
    this.store = store;
  }

  get(id: string): JobView | undefined {
    return this.jobs.get(id);
  }

  /** Registers the job and starts it in the background, continuing the trace of `parent` (the request). */
  submit(kind: FunctionName, chunks: ChunkPlan[], parent: Context = context.active()): JobView {
    const id = `job-${randomUUID()}`;
    const jobSpan = tracer.startSpan(
      `etl.job ${kind}`,
      {
        attributes: {
          [ATTRIBUTES.jobId]: id,
          [ATTRIBUTES.jobKind]: kind,
          [ATTRIBUTES.chunkCount]: chunks.length,
        },
      },
      parent,
    );
    const view: JobView = {
      id,
      kind,
      status: 'queued',
      chunks: { total: chunks.length, done: 0, failed: 0, in_flight: 0, retried: 0 },
      trace_id: jobSpan.spanContext().traceId,
      created_at: new Date().toISOString(),
      dead_letters: [],
    };
    this.jobs.set(id, view);
    // Everything the job does — its events and logs included — happens under its span.
    void context.with(trace.setSpan(parent, jobSpan), () => this.run(view, kind, chunks, jobSpan));
    return view;
  }

  /** Runs in the job span's context (see submit): chunk spans, events and logs are its children. */
  private async run(view: JobView, kind: FunctionName, chunks: ChunkPlan[], jobSpan: Span): Promise<void> {
    const jobContext = context.active();
    const started = performance.now();
    view.status = 'running';
    trackEtl('job_started', { job_id: view.id, kind, n_chunks: chunks.length });
    let billedMs = 0;
    let invocations = 0;
    const links: Link[] = [];
    await Promise.all(
      chunks.map(async (chunk, index) => {
        const outcome = await this.runChunk(view, kind, index, chunk);
        billedMs += outcome.billedMs;
        invocations += outcome.attempts;
        links.push({ context: outcome.spanContext, attributes: { [ATTRIBUTES.chunkIndex]: index } });
      }),
    );
    const wallSeconds = (performance.now() - started) / 1000;
    const cost = jobCost({ billedMs, invocations, wallSeconds }, this.config);
    const { gbSeconds, serverlessUsd: serverless, alwaysOnUsd: alwaysOn } = cost;
    view.cost = costView(cost, invocations);
    view.status = view.chunks.failed === 0 ? 'done' : view.chunks.done === 0 ? 'failed' : 'partial';

    // Fan-in: links to every chunk (as many as the SDK keeps), the count of the rest.
    const finalizer = tracer.startSpan(
      'etl.job finalize',
      {
        links: links.slice(0, MAX_LINKS),
        attributes: {
          [ATTRIBUTES.jobId]: view.id,
          [ATTRIBUTES.jobStatus]: view.status,
          [ATTRIBUTES.linksDropped]: Math.max(0, links.length - MAX_LINKS),
        },
      },
      jobContext,
    );
    await context.with(trace.setSpan(jobContext, finalizer), async () => {
      try {
        await this.store.putJson(`etl/jobs/${view.id}.json`, view);
      } catch (error) {
        finalizer.recordException(error as Error);
      }
    });
    finalizer.end();

    const attributes = { [ATTRIBUTES.jobKind]: kind };
    instruments.jobs.add(1, { ...attributes, [ATTRIBUTES.jobStatus]: view.status });
    instruments.billed.add(gbSeconds, { ...attributes, [SEMCONV.faasName]: kind });
    instruments.cost.add(serverless, { ...attributes, [ATTRIBUTES.costModel]: 'serverless' });
    instruments.cost.add(alwaysOn, { ...attributes, [ATTRIBUTES.costModel]: 'always_on' });
    trackEtl('job_finished', {
      job_id: view.id,
      kind,
      status: view.status,
      n_chunks: view.chunks.total,
      n_failed: view.chunks.failed,
      duration_ms: Math.round(wallSeconds * 1000),
      cost_usd: view.cost.serverless_usd,
    });
    view.finished_at = new Date().toISOString();
    jobSpan.setAttributes({
      [ATTRIBUTES.jobStatus]: view.status,
      [ATTRIBUTES.costServerlessUsd]: serverless,
      [ATTRIBUTES.billedGbSeconds]: gbSeconds,
    });
    if (view.status !== 'done')
      jobSpan.setStatus({ code: SpanStatusCode.ERROR, message: `${view.chunks.failed} chunks failed` });
    jobSpan.end();
    logger.info(
      { job_id: view.id, status: view.status, chunks: view.chunks, cost: view.cost },
      'job finished',
    );
  }

  /** Dispatches one chunk until it succeeds or runs out of attempts; the producer span covers every attempt. */
  private async runChunk(view: JobView, kind: FunctionName, index: number, chunk: ChunkPlan) {
    const span = tracer.startSpan(`etl.chunk ${kind}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        [ATTRIBUTES.jobId]: view.id,
        [ATTRIBUTES.chunkIndex]: index,
        [ATTRIBUTES.chunkCount]: view.chunks.total,
      },
    });
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    const labels = { [ATTRIBUTES.jobKind]: kind };
    const tally = { billedMs: 0, attempts: 0, lastError: '' };
    const eventFor = (attempt: number): ChunkEvent => ({
      job_id: view.id,
      kind,
      chunk_index: index,
      chunk_count: view.chunks.total,
      attempt,
      payload: chunk.payload,
      trace: carrier,
      ...(chunk.fault ? { fault: chunk.fault } : {}),
    });
    // Every attempt's outcome, whichever side retries: billed time, cold starts, failures, retries.
    const account = (result: InvocationResult, attempt: number) => {
      tally.attempts = attempt;
      tally.billedMs += result.billedMs;
      if (result.coldStart) instruments.coldStarts.add(1, { [SEMCONV.faasName]: kind });
      if (result.ok) return;
      tally.lastError = `${result.error?.name}: ${result.error?.message}`;
      instruments.chunks.add(1, { ...labels, [ATTRIBUTES.outcome]: 'failed' });
      if (attempt < this.config.maxAttempts) {
        view.chunks.retried++;
        instruments.chunks.add(1, { ...labels, [ATTRIBUTES.outcome]: 'retried' });
        span.addEvent('retry', { attempt: attempt + 1, 'error.message': tally.lastError });
      }
    };
    const inFlight = async (work: () => Promise<InvocationResult>): Promise<InvocationResult> => {
      view.chunks.in_flight++;
      instruments.concurrency.add(1, { [SEMCONV.faasName]: kind });
      try {
        return await work().catch(failure);
      } finally {
        view.chunks.in_flight--;
        instruments.concurrency.add(-1, { [SEMCONV.faasName]: kind });
      }
    };
    let ok = false;
    if (this.dispatcher.retriesItself) {
      // The queue retries: one dispatch, and every attempt's outcome comes back through `account`.
      const final = await inFlight(() => this.dispatcher.invoke(kind, eventFor(1), account));
      if (tally.attempts === 0) account(final, 1);
      ok = final.ok;
    } else {
      for (let attempt = 1; attempt <= this.config.maxAttempts && !ok; attempt++) {
        if (attempt > 1)
          await new Promise((resolve) => setTimeout(resolve, this.config.retryBaseMs * 2 ** (attempt - 2)));
        const result = await inFlight(() => this.dispatcher.invoke(kind, eventFor(attempt)));
        account(result, attempt);
        ok = result.ok;
      }
    }
    const { billedMs, attempts: attempt, lastError } = tally;
    if (ok) {
      view.chunks.done++;
      instruments.chunks.add(1, { ...labels, [ATTRIBUTES.outcome]: 'processed' });
      span.setAttribute(ATTRIBUTES.attemptCount, attempt);
      span.end();
      return { billedMs, attempts: attempt, spanContext: span.spanContext() };
    }
    // Every attempt failed: a dead-letter record, kept with the job and in the store; nothing is lost silently.
    view.chunks.failed++;
    instruments.chunks.add(1, { ...labels, [ATTRIBUTES.outcome]: 'dead_lettered' });
    const letter = { chunk_index: index, attempts: attempt, error: lastError };
    view.dead_letters.push(letter);
    await this.store
      .putJson(`etl/dead-letter/job_id=${view.id}/chunk-${String(index).padStart(5, '0')}.json`, {
        ...letter,
        job_id: view.id,
        payload: chunk.payload,
      })
      .catch((error: unknown) => span.recordException(error as Error));
    span.setAttribute(ATTRIBUTES.attemptCount, attempt);
    span.addEvent('dead_lettered', { attempts: attempt, 'error.message': lastError });
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: `dead-lettered after ${attempt} attempts: ${lastError}`,
    });
    span.end();
    return { billedMs, attempts: attempt, spanContext: span.spanContext() };
  }
}

/** A dispatch that threw (a killed or timed-out sandbox, a queue error) as a failed attempt. */
function failure(error: unknown): InvocationResult {
  const cause = error instanceof Error ? error : new Error(String(error));
  return {
    ok: false,
    error: { name: cause.name, message: cause.message },
    billedMs: error instanceof SandboxFailure ? error.billedMs : 0,
    coldStart: false,
    invocationId: '',
  };
}
