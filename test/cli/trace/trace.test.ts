/**
 * `observatory trace` against the real stack and the demo platform: one request's trace, logs and events in one
 * view, checked against what Jaeger and the S3 store hold for the same trace ID; an ETL job's retried chunk shown
 * as its attempts; and a clear status with its own exit code for every way a lookup can fail.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES, traceCommand } from '../../../cli/trace/command.ts';
import { parseTraceId, type SpanNode, type TraceDocument } from '../../../trace/index.ts';
import type { TraceListing } from '../../../trace/index.ts';
import type { JobView } from '../../../etl/listener/jobs.ts';
import { startPlatform, type Platform } from '../../../demo/platform.ts';
import { fetchTrace, stackEndpoints, tag, type JaegerTrace } from '../../support/backends.ts';
import { pollUntil } from '../../support/poll.ts';
import { settledSignals } from '../../support/trace-signals.ts';

import { closedPortUrl } from '../../support/closed-port.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform({
    freePorts: true,
    env: {
      OTEL_BSP_SCHEDULE_DELAY: '500',
      OTEL_BLRP_SCHEDULE_DELAY: '500',
      OBSERVATORY_ETL_ALLOW_FAULTS: 'true',
      OBSERVATORY_ETL_RETRY_BASE_MS: '50',
    },
  });
});
afterAll(async () => {
  await platform?.stop();
});

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs the command in-process, capturing what it prints; piped (no terminal) unless told otherwise. */
async function run(
  args: string[],
  options: { isTTY?: boolean; columns?: number; env?: Record<string, string | undefined> } = {},
): Promise<Run> {
  let out = '';
  let err = '';
  const code = await traceCommand(args, {
    out: (text) => (out += text),
    err: (text) => (err += text),
    env: { ...process.env, ...options.env },
    isTTY: options.isTTY ?? false,
    columns: options.columns ?? 220,
  });
  return { code, out, err };
}

const flatten = (nodes: SpanNode[], depth = 0): { node: SpanNode; depth: number }[] =>
  nodes.flatMap((node) => [{ node, depth }, ...flatten(node.children, depth + 1)]);

/** Parent→child edges as Jaeger records them (CHILD_OF), and as the document's tree nests them. */
function jaegerEdges(trace: JaegerTrace): string[] {
  return trace.spans
    .map((s) => `${s.references.find((r) => r.refType === 'CHILD_OF')?.spanID ?? 'root'}>${s.spanID}`)
    .sort();
}
function documentEdges(doc: TraceDocument): string[] {
  const edges: string[] = [];
  const walk = (node: SpanNode, parent: string) => {
    edges.push(`${parent}>${node.span_id}`);
    expect(node.parent_span_id ?? 'root').toBe(parent);
    node.children.forEach((child) => walk(child, node.span_id));
  };
  doc.spans.forEach((root) => walk(root, 'root'));
  return edges.sort();
}

/** The waterfall's span lines as (depth, service, name), in print order; stops at the first blank line. */
function waterfall(text: string): { depth: number; service: string; name: string; line: string }[] {
  const lines = text.split('\n');
  const end = lines.indexOf('');
  return lines
    .slice(2, end)
    .map((line) => ({
      line,
      match: line.match(/^[* ] ((?:[|`]- |\| {2}| {3})*)(?:attempt \d+\/\d+: )?(\S+) (\S.*?) {2}/),
    }))
    .filter(({ match }) => match && !['-', '>', '!'].includes(match[2]!))
    .map(({ line, match }) => ({
      depth: match![1]!.length / 3,
      service: match![2]!,
      name: match![3]!,
      line,
    }));
}

const traceIdOf = (response: Response) => parseTraceId(response.headers.get('traceresponse')!);

describe('observatory trace, for a search through the gateway', () => {
  // Other runs drive the same stack: this request is found among theirs by its own user ID.
  const user = `trace-cli-${randomBytes(4).toString('hex')}`;
  let traceresponse: string;
  let traceId: string;
  let trace: JaegerTrace;
  let doc: TraceDocument;
  let json: Run;

  beforeAll(async () => {
    const response = await fetch(
      `${platform.urls.gateway}/api/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-02&limit=2`,
      { headers: { 'x-user-id': user } },
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { scenes: unknown[] };
    traceresponse = response.headers.get('traceresponse')!;
    traceId = traceIdOf(response);
    trace = await fetchTrace(traceId, 4 + 3 * body.scenes.length + 2);
    json = await run([` ${traceresponse.toUpperCase()} `, '--json', '--wait', '20']);
    doc = JSON.parse(json.out) as TraceDocument;
  });

  it('prints, as JSON, a tree with exactly the parent/child structure Jaeger has', () => {
    expect(json.code, json.err).toBe(EXIT_CODES.ok);
    expect(doc.trace_id).toBe(traceId);
    expect(doc.summary.span_count).toBe(trace.spans.length);
    expect(documentEdges(doc)).toEqual(jaegerEdges(trace));
    const [root] = doc.spans;
    expect(root).toMatchObject({
      service: 'gateway',
      name: 'GET /api/scenes',
      kind: 'server',
      status: 'unset',
    });
    expect(root!.key_attributes).toMatchObject({
      'http.route': '/api/scenes',
      'http.response.status_code': 200,
    });
    expect(doc.summary.services).toEqual(['catalog', 'gateway']);
    expect(doc.summary.error_count).toBe(0);
  });

  it('round-trips its JSON: parsed and printed again, it is the same document', () => {
    expect(`${JSON.stringify(JSON.parse(json.out), null, 2)}\n`).toBe(json.out);
    expect(Object.keys(doc)).toEqual(['trace_id', 'spans', 'processes', 'logs', 'events', 'summary']);
  });

  it('shows exactly the logs and events that carry the trace ID, each under the span that emitted it', async () => {
    const expected = await settledSignals(
      traceId,
      ({ logs, events }) =>
        logs.some((l) => l.body === 'scene search') && events.some((e) => e.eventName === 'search_made'),
    );
    // Logs and events may have arrived after the first run: look again now that they have settled.
    const rerun = await run([traceId, '--json']);
    expect(rerun.code, rerun.err).toBe(EXIT_CODES.ok);
    const again = JSON.parse(rerun.out) as TraceDocument;
    expect(again.logs.map((l) => `${l.span_id} ${JSON.stringify(l.body)}`).sort()).toEqual(
      expected.logs.map((l) => `${l.spanId} ${JSON.stringify(l.body)}`).sort(),
    );
    expect(again.events.map((e) => e.event_id).sort()).toEqual(expected.events.map((e) => e.eventId).sort());
    const search = again.logs.find((l) => l.body === 'scene search')!;
    const made = again.events.find((e) => e.event_name === 'search_made')!;
    const catalogSpans = new Set(
      flatten(again.spans)
        .filter(({ node }) => node.service === 'catalog')
        .map(({ node }) => node.span_id),
    );
    expect(search).toMatchObject({ service: 'catalog', placed: true });
    expect(catalogSpans.has(search.span_id!)).toBe(true);
    expect(made).toMatchObject({ service: 'catalog', placed: true });
    expect(catalogSpans.has(made.span_id!)).toBe(true);
    expect(again.summary).toMatchObject({
      log_count: expected.logs.length,
      event_count: expected.events.length,
    });
  });

  it('prints, as text, the same tree as the JSON with each log and event under its span', async () => {
    await settledSignals(traceId, ({ logs }) => logs.some((l) => l.body === 'scene search'));
    const text = await run([traceId]);
    expect(text.code, text.err).toBe(EXIT_CODES.ok);
    expect(text.out).not.toMatch(/\x1b\[/);
    const fromJson = flatten(doc.spans).map(({ node, depth }) => ({
      depth,
      service: node.service,
      name: node.name,
    }));
    const printed = waterfall(text.out);
    expect(printed.map(({ depth, service, name }) => ({ depth, service, name }))).toEqual(fromJson);
    const lines = text.out.split('\n');
    const searchSpan = lines.findIndex((l) => / catalog GET \/scenes {2}/.test(l));
    const logLine = lines.findIndex((l) => /catalog: scene search/.test(l));
    const eventLine = lines.findIndex((l) => /event search_made/.test(l));
    expect(searchSpan).toBeGreaterThan(0);
    expect(logLine).toBeGreaterThan(searchSpan);
    expect(eventLine).toBeGreaterThan(searchSpan);
    // Nothing but logs and events of that span between it and the next span line.
    expect(
      printed.filter((p) => lines.indexOf(p.line) > searchSpan && lines.indexOf(p.line) < logLine),
    ).toEqual([]);
    expect(text.out).toMatch(/^ {2}critical path/m);
  });

  it('computes a critical path that starts at the root and only goes through spans of the trace', () => {
    const path = doc.summary.critical_path;
    expect(path[0]!.span_id).toBe(doc.spans[0]!.span_id);
    const ids = new Set(trace.spans.map((s) => s.spanID));
    expect(path.every((step) => ids.has(step.span_id) && step.self_ms >= 0)).toBe(true);
    const total = path.reduce((sum, step) => sum + step.self_ms, 0);
    expect(total).toBeCloseTo(doc.summary.duration_ms, 0);
  });

  it('colours a terminal’s output, and leaves it plain when NO_COLOR is set', async () => {
    const tty = await run([traceId], { isTTY: true, columns: 100 });
    expect(tty.out).toMatch(/\x1b\[/);
    const noColor = await run([traceId], { isTTY: true, columns: 100, env: { NO_COLOR: '1' } });
    expect(noColor.out).not.toMatch(/\x1b\[/);
  });

  it('lists the trace among the gateway’s recent traces with --last', async () => {
    const listing = await pollUntil(`trace ${traceId} in Jaeger's search`, async () => {
      const result = await run(['--last', '--service', 'gateway', '--tag', `user.id=${user}`, '--json']);
      expect(result.code, result.err).toBe(EXIT_CODES.ok);
      return (JSON.parse(result.out) as TraceListing[]).find((t) => t.trace_id === traceId);
    });
    expect(listing).toMatchObject({
      root_service: 'gateway',
      root_operation: 'GET /api/scenes',
      span_count: trace.spans.length,
      error: false,
    });
  });
});

describe('observatory trace --last --errors', () => {
  it('lists only traces with an error, among them a failed request', async () => {
    const user = `trace-cli-${randomBytes(4).toString('hex')}`;
    const response = await fetch(
      `${platform.urls.gateway}/api/scenes?bbox=0,40,5,45&from=2026-06-01&to=2026-06-01`,
      { headers: { 'x-demo-fault': 'catalog:error', 'x-user-id': user } },
    );
    expect(response.status).toBe(502);
    const traceId = traceIdOf(response);
    const listing = await pollUntil(`failed trace ${traceId} in Jaeger's search`, async () => {
      const result = await run([
        '--last',
        '--service',
        'gateway',
        '--errors',
        '--tag',
        `user.id=${user}`,
        '--json',
      ]);
      const rows = JSON.parse(result.out) as TraceListing[];
      expect(rows.every((row) => row.error)).toBe(true);
      return rows.find((t) => t.trace_id === traceId);
    });
    expect(listing!.error).toBe(true);

    const shown = await run([traceId, '--wait', '10']);
    expect(shown.out).toMatch(/catalog GET .*ERROR/);
    expect(shown.out).toContain('injected fault');
  });
});

describe('observatory trace, for an ETL job with a retried chunk', () => {
  it('shows every chunk invocation under its producer span, the retried chunk as two attempts, and the cost', async () => {
    const submitted = await fetch(`${platform.urls.etl}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        bbox: [0, 40, 5, 45],
        from: '2026-06-11',
        to: '2026-06-12',
        fault: { chunks: [0], kind: 'throw', attempts: 1 },
      }),
    });
    expect(submitted.status, await submitted.clone().text()).toBe(202);
    const { id } = (await submitted.json()) as JobView;
    const job = await pollUntil(
      `job ${id} to finish`,
      async () => {
        const view = (await (await fetch(`${platform.urls.etl}/jobs/${id}`)).json()) as JobView;
        return view.status === 'queued' || view.status === 'running' ? undefined : view;
      },
      { timeoutMs: 60_000 },
    );
    expect(job.status).toBe('done');
    const trace = await fetchTrace(job.trace_id, (t) =>
      t.spans.some((s) => s.operationName === 'etl.job crop_stats'),
    );
    const invokes = trace.spans.filter((s) => s.operationName === 'crop_stats invoke');
    // The job's business events (job_started, a tile_processed per chunk, job_finished) have all arrived.
    const signals = await settledSignals(
      job.trace_id,
      ({ events }) =>
        events.some((e) => e.eventName === 'job_finished') &&
        events.filter((e) => e.eventName === 'tile_processed').length >= job.chunks.total,
      60_000,
    );

    const result = await run([job.trace_id, '--json', '--wait', '20']);
    expect(result.code, result.err).toBe(EXIT_CODES.ok);
    const doc = JSON.parse(result.out) as TraceDocument;
    expect(doc.events.map((e) => e.event_id).sort()).toEqual(signals.events.map((e) => e.eventId).sort());
    expect(documentEdges(doc)).toEqual(jaegerEdges(trace));
    const producers = flatten(doc.spans)
      .map(({ node }) => node)
      .filter((n) => n.kind === 'producer' && n.name === 'etl.chunk crop_stats');
    expect(producers).toHaveLength(job.chunks.total);
    const shownInvocations = producers.flatMap((p) =>
      p.children.filter((c) => c.name === 'crop_stats invoke'),
    );
    expect(shownInvocations.map((i) => i.span_id).sort()).toEqual(invokes.map((s) => s.spanID).sort());
    for (const producer of producers) {
      for (const child of producer.children) {
        expect(child.attributes['etl.chunk.index']).toBe(producer.attributes['etl.chunk.index']);
      }
    }
    const retried = producers.find((p) => p.attributes['etl.chunk.index'] === 0)!;
    expect(retried.attempts).toEqual([
      { span_id: expect.any(String), attempt: 1, status: 'error' },
      { span_id: expect.any(String), attempt: 2, status: expect.not.stringMatching('error') },
    ]);
    expect(retried.children[0]!.exceptions[0]!.message).toContain('injected fault');
    expect(doc.summary.etl_jobs).toEqual([
      expect.objectContaining({
        job_id: job.id,
        chunk_count: job.chunks.total,
        invocations: invokes.length,
        retried_chunks: 1,
        failed_invocations: 1,
      }),
    ]);
    expect(doc.summary.etl_jobs[0]!.cost_usd).toBeGreaterThan(0);
    const jobSpan = trace.spans.find((s) => s.operationName === 'etl.job crop_stats')!;
    expect(doc.summary.etl_jobs[0]!.cost_usd).toBe(tag(jobSpan, 'etl.cost.serverless_usd'));

    const text = await run([job.trace_id]);
    expect(text.code, text.err).toBe(EXIT_CODES.ok);
    expect(text.out).toMatch(/attempt 1\/2: etl-worker crop_stats invoke .*ERROR/);
    expect(text.out).toMatch(/attempt 2\/2: etl-worker crop_stats invoke/);
    expect(text.out).toMatch(/! .*injected fault: chunk 0 attempt 1/);
    expect(text.out).toMatch(new RegExp(`ETL job +${job.id} crop_stats done: 2 chunks, 3 invocations`));
  });
});

/** Sends one span of a new trace straight to the Collector (OTLP/JSON) and returns its trace ID. */
async function sendLonelySpan(service: string): Promise<string> {
  const traceId = randomBytes(16).toString('hex');
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const sent = await fetch(`${stackEndpoints().otlpHttp}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId,
                  spanId: randomBytes(8).toString('hex'),
                  name: 'lonely',
                  kind: 1,
                  startTimeUnixNano: String(nowNs),
                  endTimeUnixNano: String(nowNs + 5_000_000n),
                },
              ],
            },
          ],
        },
      ],
    }),
  });
  expect(sent.status).toBe(200);
  return traceId;
}

describe('observatory trace, when the trace cannot be shown', () => {
  it('says "not found" in Jaeger nor in the lake, and how many traces Jaeger keeps, for an unknown ID', async () => {
    const result = await run([randomBytes(16).toString('hex')]);
    expect(result.code).toBe(EXIT_CODES.notFound);
    expect(result.err).toContain(
      'not found — neither Jaeger (it keeps the newest OBSERVATORY_JAEGER_MAX_TRACES traces',
    );
    expect(result.err).toContain("nor the lake's curated/spans/ has it");
  });

  it('says "not arrived yet" once --wait has passed, for an unknown ID', async () => {
    const result = await run([randomBytes(16).toString('hex'), '--wait', '2']);
    expect(result.code).toBe(EXIT_CODES.notArrived);
    expect(result.err).toContain('not arrived yet (waited 2 s)');
  });

  it('shows a trace without logs or events, and says so with its own exit code', async () => {
    const traceId = await sendLonelySpan('trace-cli-test');
    const result = await run([traceId, '--wait', '20']);
    expect(result.code, result.err).toBe(EXIT_CODES.noLogsOrEvents);
    expect(result.out).toMatch(/trace-cli-test lonely/);
    expect(result.err).toContain('no logs/events found for this trace');
  });

  it('shows the trace but exits 7 when the S3 store cannot be read for its logs and events', async () => {
    const traceId = await sendLonelySpan('trace-cli-store-test');
    await fetchTrace(traceId);
    const result = await run([traceId], { env: { OBSERVATORY_S3_ENDPOINT: await closedPortUrl() } });
    expect(result.code, result.err).toBe(EXIT_CODES.storeUnavailable);
    expect(result.out).toMatch(/trace-cli-store-test lonely/);
    expect(result.err).toMatch(
      /logs and events unavailable: the S3 store s3:\/\/observatory at http:\/\/127\.0\.0\.1:\d+ could not be/,
    );
  });

  it('exits 1 with one line when Jaeger answers with an error', async () => {
    const broken = createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 500, msg: 'storage backend failed' }] }));
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = broken.address() as { port: number };
      const result = await run([randomBytes(16).toString('hex')], {
        env: { OBSERVATORY_JAEGER_URL: `http://127.0.0.1:${port}` },
      });
      expect(result.code).toBe(EXIT_CODES.failed);
      expect(result.err).toMatch(
        /^observatory trace: Jaeger answered 500 for trace [0-9a-f]{32}: storage backend failed\n$/,
      );
      expect(result.out).toBe('');
    } finally {
      broken.close();
    }
  });
});
