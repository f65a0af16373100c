/** The few calls `observatory trace` makes to Jaeger's HTTP query API, with its failures told apart. */

export interface JaegerTag {
  key: string;
  type?: string;
  value: unknown;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  /** Microseconds since the epoch. */
  startTime: number;
  /** Microseconds. */
  duration: number;
  tags: JaegerTag[];
  /** Span events: `exception` events carry exception.type / exception.message. */
  logs: { timestamp: number; fields: JaegerTag[] }[];
  processID: string;
  warnings?: string[] | null;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags?: JaegerTag[] }>;
  warnings?: string[] | null;
}

/** Jaeger did not answer at all (refused, timed out, not HTTP). */
export class JaegerUnreachableError extends Error {
  readonly address: string;
  constructor(address: string, cause: unknown) {
    super(`Jaeger unreachable at ${address}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.address = address;
  }
}

export class JaegerClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(baseUrl: string, timeoutMs = 10_000) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = timeoutMs;
  }

  /** The trace, or undefined when Jaeger does not have it (yet, or any more). */
  async trace(traceId: string): Promise<JaegerTrace | undefined> {
    const { status, body } = await this.get(`/api/traces/${traceId}`);
    if (status === 404) return undefined;
    if (status !== 200) throw new Error(`Jaeger answered ${status} for trace ${traceId}: ${bodyError(body)}`);
    const trace = (body as { data?: JaegerTrace[] }).data?.[0];
    return trace && trace.spans.length > 0 ? trace : undefined;
  }

  /** Span names of a service. */
  async operations(service: string): Promise<string[]> {
    const { status, body } = await this.get(`/api/services/${encodeURIComponent(service)}/operations`);
    if (status !== 200)
      throw new Error(`Jaeger answered ${status} for ${service}'s operations: ${bodyError(body)}`);
    return ((body as { data?: string[] | null }).data ?? []).slice().sort();
  }

  /** Caller → callee call counts over the lookback, as Jaeger's store computes them (empty when it does not). */
  async dependencies(
    endMs: number,
    lookbackMs: number,
  ): Promise<{ parent: string; child: string; callCount: number }[]> {
    const { status, body } = await this.get(`/api/dependencies?endTs=${endMs}&lookback=${lookbackMs}`);
    if (status !== 200)
      throw new Error(`Jaeger answered ${status} for /api/dependencies: ${bodyError(body)}`);
    return (body as { data?: { parent: string; child: string; callCount: number }[] | null }).data ?? [];
  }

  async services(): Promise<string[]> {
    const { status, body } = await this.get('/api/services');
    if (status !== 200) throw new Error(`Jaeger answered ${status} for /api/services: ${bodyError(body)}`);
    return ((body as { data?: string[] | null }).data ?? []).slice().sort();
  }

  /** Jaeger's search: the newest traces that have a span of `service` (and the tags), whole traces. */
  async search(query: {
    service: string;
    limit: number;
    lookback: string;
    tags?: Record<string, string>;
    operation?: string;
    /** A Jaeger duration, e.g. `250ms`. */
    minDuration?: string;
    /** Microseconds since the epoch; with `end`, instead of the lookback from now. */
    start?: number;
    end?: number;
  }): Promise<JaegerTrace[]> {
    const params = new URLSearchParams({
      service: query.service,
      limit: String(query.limit),
      lookback: query.lookback,
    });
    if (query.tags) params.set('tags', JSON.stringify(query.tags));
    if (query.operation) params.set('operation', query.operation);
    if (query.minDuration) params.set('minDuration', query.minDuration);
    if (query.start !== undefined) params.set('start', String(query.start));
    if (query.end !== undefined) params.set('end', String(query.end));
    const { status, body } = await this.get(`/api/traces?${params}`);
    if (status !== 200)
      throw new Error(`Jaeger search for ${query.service} answered ${status}: ${bodyError(body)}`);
    return (body as { data?: JaegerTrace[] | null }).data ?? [];
  }

  private async get(path: string): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new JaegerUnreachableError(this.baseUrl, (error as { cause?: unknown }).cause ?? error);
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page): kept as text for the message.
    }
    return { status: response.status, body };
  }
}

function bodyError(body: unknown): string {
  const errors = (body as { errors?: { msg?: string }[] } | undefined)?.errors;
  if (Array.isArray(errors) && errors.length > 0) return errors.map((e) => e.msg).join('; ');
  return String(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 200);
}
