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
  type SpanContext,
} from '@opentelemetry/api';
import { logger } from '../../instrumentation/api.ts';
import { ATTRIBUTES, METRICS, SEMCONV } from '../../common/names.ts';
import type { S3Store } from '../../common/s3-store.ts';
import type { EtlConfig } from '../config.ts';
import type { AttemptListener, Dispatcher } from '../dispatch.ts';
import { track } from '../../tracker/track.ts';
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

/** What one chunk cost and where its span is, for the job's totals and the fan-in's links. */
interface ChunkOutcome {
  billedMs: number;
  attempts: number;
  spanContext: SpanContext;
}

/** The running tally of one chunk's attempts. */
interface Tally {
  billedMs: number;
  attempts: number;
  lastError: string;
}

/** Thrown by submit when the fleet's queue has no room for the job's chunks: the API answers 429. */
export class FleetBusyError extends Error {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.name = 'FleetBusyError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

const JOB_ID = /^job-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const jobKey = (id: string) => `etl/jobs/${id}.json`;

export class JobRunner {
  /** Jobs queued or running, and finished ones until their TTL runs out (they are in the store by then). */
  private readonly jobs = new Map<string, JobView>();
  private readonly config: EtlConfig;
  private readonly dispatcher: Dispatcher;
  private readonly store: S3Store;

  constructor(config: EtlConfig, dispatcher: Dispatcher, store: S3Store) {
    this.config = config;
    this.dispatcher = dispatcher;
    this.store = store;
  }

  /** The job from memory, else as it was stored when it finished; undefined when neither knows it. */
  async find(id: string): Promise<JobView | undefined> {
    const live = this.jobs.get(id);
    if (live) return live;
    // The ID becomes part of a key: only our own ID shape reaches the store.
    if (!JOB_ID.test(id)) return undefined;
    return this.store.getJson<JobView>(jobKey(id));
  }

  /** How many jobs are held in memory (the bound the TTL keeps). */
  get held(): number {
    return this.jobs.size;
  }

  /**
   * Registers the job and starts it in the background, continuing the trace of `parent` (the request). Throws
   * FleetBusyError, accepting nothing, when the dispatcher has no room for its chunks.
   */
  submit(kind: FunctionName, chunks: ChunkPlan[], parent: Context = context.active()): JobView {
    const room = this.dispatcher.room(kind);
    if (chunks.length > room) {
      throw new FleetBusyError(
        `the ${kind} fleet's queue has room for ${Math.max(0, room)} more chunks and the job has ${chunks.length}; try again later`,
        this.config.busyRetryAfterSeconds,
      );
    }
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
    track('job_started', { job_id: view.id, kind, n_chunks: chunks.length });
    const outcomes = await Promise.all(chunks.map((chunk, index) => this.runChunk(view, kind, index, chunk)));
    const wallSeconds = (performance.now() - started) / 1000;
    const cost = this.costOf(outcomes, wallSeconds);
    view.cost = cost.view;
    const status = view.chunks.failed === 0 ? 'done' : view.chunks.done === 0 ? 'failed' : 'partial';
    view.status = status;
    view.finished_at = new Date().toISOString();
    const persisted = await this.fanIn(view, outcomes, jobContext);
    this.record(view, status, cost, wallSeconds, jobSpan);
    this.forgetLater(view, persisted);
  }

  /** What the job cost as serverless invocations, and what always-on servers would have cost for its duration. */
  private costOf(outcomes: ChunkOutcome[], wallSeconds: number) {
    const billedMs = outcomes.reduce((sum, o) => sum + o.billedMs, 0);
    const invocations = outcomes.reduce((sum, o) => sum + o.attempts, 0);
    const cost = jobCost({ billedMs, invocations, wallSeconds }, this.config);
    return {
      gbSeconds: cost.gbSeconds,
      serverless: cost.serverlessUsd,
      alwaysOn: cost.alwaysOnUsd,
      view: costView(cost, invocations),
    };
  }

  /** The fan-in span, linked to every chunk (as many as the SDK keeps), stores the job's final view. */
  private async fanIn(view: JobView, outcomes: ChunkOutcome[], jobContext: Context): Promise<boolean> {
    const links: Link[] = outcomes.map((o, index) => ({
      context: o.spanContext,
      attributes: { [ATTRIBUTES.chunkIndex]: index },
    }));
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
    const persisted = await context.with(trace.setSpan(jobContext, finalizer), () => this.persist(view));
    if (!persisted)
      finalizer.setStatus({ code: SpanStatusCode.ERROR, message: 'the job could not be stored' });
    finalizer.end();
    return persisted;
  }

  private async persist(view: JobView): Promise<boolean> {
    try {
      await this.store.putJson(jobKey(view.id), view);
      return true;
    } catch (error) {
      trace.getActiveSpan()?.recordException(error as Error);
      logger.error({ job_id: view.id, err: error }, 'storing the finished job failed; it stays in memory');
      return false;
    }
  }

  /** Metrics, the job_finished event, the job span's outcome and a log line. */
  private record(
    view: JobView,
    status: 'done' | 'partial' | 'failed',
    cost: ReturnType<JobRunner['costOf']>,
    wallSeconds: number,
    jobSpan: Span,
  ): void {
    const kind = view.kind;
    const attributes = { [ATTRIBUTES.jobKind]: kind };
    instruments.jobs.add(1, { ...attributes, [ATTRIBUTES.jobStatus]: status });
    instruments.billed.add(cost.gbSeconds, { ...attributes, [SEMCONV.faasName]: kind });
    instruments.cost.add(cost.serverless, { ...attributes, [ATTRIBUTES.costModel]: 'serverless' });
    instruments.cost.add(cost.alwaysOn, { ...attributes, [ATTRIBUTES.costModel]: 'always_on' });
    track('job_finished', {
      job_id: view.id,
      kind,
      status,
      n_chunks: view.chunks.total,
      n_failed: view.chunks.failed,
      duration_ms: Math.round(wallSeconds * 1000),
      cost_usd: cost.view.serverless_usd,
    });
    jobSpan.setAttributes({
      [ATTRIBUTES.jobStatus]: view.status,
      [ATTRIBUTES.costServerlessUsd]: cost.serverless,
      [ATTRIBUTES.billedGbSeconds]: cost.gbSeconds,
    });
    if (view.status !== 'done')
      jobSpan.setStatus({ code: SpanStatusCode.ERROR, message: `${view.chunks.failed} chunks failed` });
    jobSpan.end();
    logger.info(
      { job_id: view.id, status: view.status, chunks: view.chunks, cost: view.cost },
      'job finished',
    );
  }

  /**
   * A finished job leaves memory after the TTL, once it is in the store (GET /jobs/:id reads it from there). One the
   * store did not take is stored again at each TTL until it is, so the store being away loses no job.
   */
  private forgetLater(view: JobView, persisted: boolean): void {
    // Retries of the store wait at least 5 s, whatever the TTL: a TTL of 0 must not become a busy loop.
    const delay = persisted ? this.config.jobTtlMs : Math.max(this.config.jobTtlMs, 5000);
    const timer = setTimeout(() => {
      if (persisted) this.jobs.delete(view.id);
      else void this.persist(view).then((ok) => this.forgetLater(view, ok));
    }, delay);
    timer.unref();
  }

  /** Dispatches one chunk until it succeeds or runs out of attempts; the producer span covers every attempt. */
  private async runChunk(
    view: JobView,
    kind: FunctionName,
    index: number,
    chunk: ChunkPlan,
  ): Promise<ChunkOutcome> {
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
    const tally: Tally = { billedMs: 0, attempts: 0, lastError: '' };
    const account = (result: InvocationResult, attempt: number) =>
      this.account(view, kind, span, tally, result, attempt);
    const ok = this.dispatcher.retriesItself
      ? await this.dispatchOnce(view, kind, eventFor, tally, account)
      : await this.dispatchWithRetries(view, kind, eventFor, account);
    span.setAttribute(ATTRIBUTES.attemptCount, tally.attempts);
    if (ok) {
      view.chunks.done++;
      instruments.chunks.add(1, { [ATTRIBUTES.jobKind]: kind, [ATTRIBUTES.outcome]: 'processed' });
    } else {
      await this.deadLetter(view, kind, index, chunk, span, tally);
    }
    span.end();
    return { billedMs: tally.billedMs, attempts: tally.attempts, spanContext: span.spanContext() };
  }

  /** Every attempt's outcome, whichever side retries: billed time, cold starts, failures, retries. */
  private account(
    view: JobView,
    kind: FunctionName,
    span: Span,
    tally: Tally,
    result: InvocationResult,
    attempt: number,
  ): void {
    const labels = { [ATTRIBUTES.jobKind]: kind };
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
  }

  /** The queue retries: one dispatch, and every attempt's outcome comes back through `account`. */
  private async dispatchOnce(
    view: JobView,
    kind: FunctionName,
    eventFor: (attempt: number) => ChunkEvent,
    tally: Tally,
    account: AttemptListener,
  ): Promise<boolean> {
    const final = await this.inFlight(view, kind, () => this.dispatcher.invoke(kind, eventFor(1), account));
    if (tally.attempts === 0) account(final, 1);
    // A final outcome no attempt reported (the chunk's deadline passed, the dispatcher closed) is the reason.
    else if (!final.ok) tally.lastError = `${final.error?.name}: ${final.error?.message}`;
    return final.ok;
  }

  /** The listener retries, with exponential backoff between attempts. */
  private async dispatchWithRetries(
    view: JobView,
    kind: FunctionName,
    eventFor: (attempt: number) => ChunkEvent,
    account: AttemptListener,
  ): Promise<boolean> {
    for (let attempt = 1; attempt <= this.config.maxAttempts; attempt++) {
      if (attempt > 1)
        await new Promise((resolve) => setTimeout(resolve, this.config.retryBaseMs * 2 ** (attempt - 2)));
      const result = await this.inFlight(view, kind, () => this.dispatcher.invoke(kind, eventFor(attempt)));
      account(result, attempt);
      if (result.ok) return true;
    }
    return false;
  }

  /** Counts the dispatch as in flight while it runs; a dispatch that throws is a failed attempt. */
  private async inFlight(
    view: JobView,
    kind: FunctionName,
    work: () => Promise<InvocationResult>,
  ): Promise<InvocationResult> {
    view.chunks.in_flight++;
    instruments.concurrency.add(1, { [SEMCONV.faasName]: kind });
    try {
      return await work().catch(failure);
    } finally {
      view.chunks.in_flight--;
      instruments.concurrency.add(-1, { [SEMCONV.faasName]: kind });
    }
  }

  /** Every attempt failed: a dead-letter record, kept with the job and in the store; nothing is lost silently. */
  private async deadLetter(
    view: JobView,
    kind: FunctionName,
    index: number,
    chunk: ChunkPlan,
    span: Span,
    tally: Tally,
  ): Promise<void> {
    const { attempts, lastError } = tally;
    view.chunks.failed++;
    instruments.chunks.add(1, { [ATTRIBUTES.jobKind]: kind, [ATTRIBUTES.outcome]: 'dead_lettered' });
    const letter = { chunk_index: index, attempts, error: lastError };
    view.dead_letters.push(letter);
    await this.store
      .putJson(`etl/dead-letter/job_id=${view.id}/chunk-${String(index).padStart(5, '0')}.json`, {
        ...letter,
        job_id: view.id,
        payload: chunk.payload,
      })
      .catch((error: unknown) => span.recordException(error as Error));
    span.addEvent('dead_lettered', { attempts, 'error.message': lastError });
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: `dead-lettered after ${attempts} attempts: ${lastError}`,
    });
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
