/**
 * Our own OTLP load client (the Collector's telemetrygen is not served at our version): demo-like traces of several
 * services — the gateway calling catalog (which reads S3) and users, and ETL jobs (listener → producer → worker) —
 * sent as OTLP/JSON over HTTP. A seed makes the traces (IDs, shapes, which ones fail or are slow) the same on every
 * run, so a tail-sampling outcome that depends on the trace ID is reproducible. Every trace is described by what the
 * generator made of it, so a test can check what a pipeline kept against what was sent.
 */
export type TraceKind = 'plain' | 'error' | 'slow' | 'etl';

export interface GeneratedTrace {
  traceId: string;
  kind: TraceKind;
  /** Every span of the trace, by span ID. */
  spanIds: string[];
  /** Server spans per `service|route`, what span metrics must count. */
  serverSpans: Record<string, number>;
  /** When its last request was answered (ms since the epoch). */
  sentAt?: number;
}

export interface LoadShape {
  /** Share of traces with an error (catalog answers 500). @default 0.05 */
  errorShare?: number;
  /** Share of traces slower than `slowMs`. @default 0.05 */
  slowShare?: number;
  /** Share of ETL job traces. @default 0.05 */
  etlShare?: number;
  /** Duration of a slow trace's root, in milliseconds. @default 1500 */
  slowMs?: number;
}

/** One span as OTLP/JSON writes it. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string } }[];
  status?: { code: number; message?: string };
}

const KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
const STATUS_ERROR = 2;

/** mulberry32: a small, fast, seeded PRNG (good enough for IDs and shapes of test traffic). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(random: () => number, bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++)
    out += Math.floor(random() * 256)
      .toString(16)
      .padStart(2, '0');
  return out;
}

function attrs(values: Record<string, string | number>): OtlpSpan['attributes'] {
  return Object.entries(values).map(([key, value]) => ({
    key,
    value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value },
  }));
}

/** Generates traces; each call to `next` makes one trace as OTLP spans grouped by service. */
export class TraceGenerator {
  private readonly random: () => number;
  private readonly shape: Required<LoadShape>;
  private jobCounter = 0;

  constructor(seed: number, shape: LoadShape = {}) {
    this.random = seededRandom(seed);
    this.shape = {
      errorShare: 0.05,
      slowShare: 0.05,
      etlShare: 0.05,
      slowMs: 1500,
      ...shape,
    };
  }

  next(nowMs = Date.now()): { trace: GeneratedTrace; spans: Map<string, OtlpSpan[]> } {
    const draw = this.random();
    const { errorShare, slowShare, etlShare } = this.shape;
    const kind: TraceKind =
      draw < errorShare
        ? 'error'
        : draw < errorShare + slowShare
          ? 'slow'
          : draw < errorShare + slowShare + etlShare
            ? 'etl'
            : 'plain';
    return kind === 'etl' ? this.etlTrace(nowMs) : this.webTrace(kind, nowMs);
  }

  private webTrace(kind: TraceKind, nowMs: number) {
    const traceId = hex(this.random, 16);
    const spans = new Map<string, OtlpSpan[]>();
    const trace: GeneratedTrace = { traceId, kind, spanIds: [], serverSpans: {} };
    const start = BigInt(nowMs) * 1_000_000n;
    const rootMs = kind === 'slow' ? this.shape.slowMs : 20 + Math.floor(this.random() * 60);
    const add = (
      service: string,
      span: Omit<OtlpSpan, 'traceId' | 'spanId' | 'startTimeUnixNano' | 'endTimeUnixNano'>,
      offsetMs: number,
      durationMs: number,
    ): string => {
      const spanId = hex(this.random, 8);
      const startNs = start + BigInt(offsetMs) * 1_000_000n;
      const full: OtlpSpan = {
        traceId,
        spanId,
        ...span,
        startTimeUnixNano: String(startNs),
        endTimeUnixNano: String(startNs + BigInt(durationMs) * 1_000_000n),
      };
      if (!spans.has(service)) spans.set(service, []);
      spans.get(service)!.push(full);
      trace.spanIds.push(spanId);
      if (span.kind === KIND.server) {
        const route = span.attributes.find((a) => a.key === 'http.route')?.value.stringValue ?? '';
        trace.serverSpans[`${service}|${route}`] = (trace.serverSpans[`${service}|${route}`] ?? 0) + 1;
      }
      return spanId;
    };
    const failed = kind === 'error';
    const status = failed ? 500 : 200;
    const root = add(
      'gateway',
      {
        name: 'GET /api/scenes/:id',
        kind: KIND.server,
        attributes: attrs({
          'http.request.method': 'GET',
          'http.route': '/api/scenes/:id',
          'http.response.status_code': status,
          'url.path': `/api/scenes/S${Math.floor(this.random() * 1000)}`,
        }),
        ...(failed ? { status: { code: STATUS_ERROR } } : {}),
      },
      0,
      rootMs,
    );
    const call = add(
      'gateway',
      {
        parentSpanId: root,
        name: 'GET',
        kind: KIND.client,
        attributes: attrs({ 'http.request.method': 'GET', 'http.response.status_code': status }),
        ...(failed ? { status: { code: STATUS_ERROR } } : {}),
      },
      1,
      rootMs - 3,
    );
    const catalog = add(
      'catalog',
      {
        parentSpanId: call,
        name: 'GET /scenes/:id',
        kind: KIND.server,
        attributes: attrs({
          'http.request.method': 'GET',
          'http.route': '/scenes/:id',
          'http.response.status_code': status,
        }),
        ...(failed ? { status: { code: STATUS_ERROR, message: 'scene store unavailable' } } : {}),
      },
      2,
      rootMs - 5,
    );
    add(
      'catalog',
      {
        parentSpanId: catalog,
        name: 'S3.GetObject',
        kind: KIND.client,
        attributes: attrs({ 'rpc.system': 'aws-api', 'rpc.service': 'S3', 'rpc.method': 'GetObject' }),
      },
      3,
      Math.max(1, rootMs - 8),
    );
    if (this.random() < 0.5) {
      const usersCall = add(
        'gateway',
        {
          parentSpanId: root,
          name: 'GET',
          kind: KIND.client,
          attributes: attrs({ 'http.request.method': 'GET', 'http.response.status_code': 200 }),
        },
        1,
        4,
      );
      add(
        'users',
        {
          parentSpanId: usersCall,
          name: 'GET /users/:id',
          kind: KIND.server,
          attributes: attrs({
            'http.request.method': 'GET',
            'http.route': '/users/:id',
            'http.response.status_code': 200,
          }),
        },
        2,
        2,
      );
    }
    return { trace, spans };
  }

  private etlTrace(nowMs: number) {
    const traceId = hex(this.random, 16);
    const spans = new Map<string, OtlpSpan[]>();
    const trace: GeneratedTrace = { traceId, kind: 'etl', spanIds: [], serverSpans: {} };
    const jobId = `load-job-${++this.jobCounter}-${hex(this.random, 4)}`;
    const start = BigInt(nowMs) * 1_000_000n;
    const push = (service: string, span: OtlpSpan) => {
      if (!spans.has(service)) spans.set(service, []);
      spans.get(service)!.push(span);
      trace.spanIds.push(span.spanId);
    };
    const at = (ms: number) => String(start + BigInt(ms) * 1_000_000n);
    const root = hex(this.random, 8);
    push('etl-listener', {
      traceId,
      spanId: root,
      name: 'etl.job crop_stats',
      kind: KIND.internal,
      startTimeUnixNano: at(0),
      endTimeUnixNano: at(40),
      attributes: attrs({ 'etl.job.id': jobId, 'etl.job.kind': 'crop_stats', 'etl.chunk.count': 2 }),
    });
    for (let chunk = 0; chunk < 2; chunk++) {
      const producer = hex(this.random, 8);
      push('etl-listener', {
        traceId,
        spanId: producer,
        parentSpanId: root,
        name: 'etl.chunk send',
        kind: KIND.producer,
        startTimeUnixNano: at(1 + chunk),
        endTimeUnixNano: at(30 + chunk),
        attributes: attrs({ 'etl.chunk.index': chunk }),
      });
      push('etl-worker', {
        traceId,
        spanId: hex(this.random, 8),
        parentSpanId: producer,
        name: 'crop_stats',
        kind: KIND.consumer,
        startTimeUnixNano: at(3 + chunk),
        endTimeUnixNano: at(25 + chunk),
        attributes: attrs({ 'faas.trigger': 'pubsub', 'faas.name': 'crop_stats', 'etl.chunk.index': chunk }),
      });
    }
    return { trace, spans };
  }

  /** One OTLP/JSON export request holding `traces` (their spans grouped by service). */
  static request(batch: Map<string, OtlpSpan[]>[], stage: string): string {
    const byService = new Map<string, OtlpSpan[]>();
    for (const spans of batch)
      for (const [service, list] of spans)
        byService.set(service, [...(byService.get(service) ?? []), ...list]);
    return JSON.stringify({
      resourceSpans: [...byService].map(([service, spans]) => ({
        resource: {
          attributes: attrs({ 'service.name': service, 'deployment.environment.name': stage }),
        },
        scopeSpans: [{ scope: { name: 'observatory-load' }, spans }],
      })),
    });
  }
}

export interface SendOptions {
  /** OTLP/HTTP base URL (…:4318). */
  endpoint: string;
  headers?: Record<string, string>;
  /** Traces per export request. @default 25 */
  tracesPerRequest?: number;
  /** Requests in flight at once. @default 4 */
  concurrency?: number;
  /** deployment.environment.name on every resource. @default load-test */
  stage?: string;
  /**
   * Send each service's spans of a batch in a request of its own, as separate processes would: spans of one trace
   * then arrive in different requests, and only routing by trace ID brings them together. @default false
   */
  splitByService?: boolean;
  /** Pause between two requests of one sender, in milliseconds (paces a run). @default 0 */
  pauseMs?: number;
  /** Called before each request is sent; return false to stop early. */
  beforeRequest?: (sentTraces: number) => boolean | Promise<boolean>;
}

export interface SendResult {
  traces: GeneratedTrace[];
  spans: number;
  requests: number;
  /** Requests the endpoint refused (non-2xx or a network error), with their traces. */
  failedRequests: number;
  failedTraces: GeneratedTrace[];
}

/** Generates `count` traces and sends them; a refused request is counted, not retried (the caller reports it). */
export async function sendTraces(
  generator: TraceGenerator,
  count: number,
  options: SendOptions,
): Promise<SendResult> {
  const { tracesPerRequest = 25, concurrency = 4, stage = 'load-test' } = options;
  const result: SendResult = { traces: [], spans: 0, requests: 0, failedRequests: 0, failedTraces: [] };
  let made = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && made < count) {
      if (options.beforeRequest && !(await options.beforeRequest(made))) {
        stopped = true;
        break;
      }
      const size = Math.min(tracesPerRequest, count - made);
      made += size;
      const batch = Array.from({ length: size }, () => generator.next());
      const traces = batch.map((b) => b.trace);
      result.traces.push(...traces);
      result.spans += traces.reduce((n, t) => n + t.spanIds.length, 0);
      const bodies = options.splitByService
        ? [...new Set(batch.flatMap((b) => [...b.spans.keys()]))].map((service) =>
            TraceGenerator.request(
              batch.map((b) => new Map([[service, b.spans.get(service) ?? []]])),
              stage,
            ),
          )
        : [
            TraceGenerator.request(
              batch.map((b) => b.spans),
              stage,
            ),
          ];
      let failed = false;
      for (const body of bodies) {
        result.requests++;
        const ok = await fetch(`${options.endpoint}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...options.headers },
          body,
        }).then(
          async (response) => {
            await response.arrayBuffer();
            return response.ok;
          },
          () => false,
        );
        if (!ok) {
          result.failedRequests++;
          failed = true;
        }
      }
      if (failed) result.failedTraces.push(...traces);
      const sentAt = Date.now();
      for (const trace of traces) trace.sentAt = sentAt;
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}
