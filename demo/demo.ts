/**
 * `npm run demo` (`observatory demo`): the main job. Brings the stack up, seeds the imagery catalog, starts the
 * services under the preload, drives them with the load generator, and prints where to look: sample trace IDs
 * (checked to be in Jaeger), the lookup command, Prometheus queries, and the business events compacted into the
 * lake by an ETL job. It keeps a light background load (and compacts every minute) until Ctrl-C, or stops after
 * --duration, then shuts down what it started. It exits 1 when its run failed: the load was not served (judgeReport,
 * at most MAX_5XX_PERCENT server errors among requests not asked to fail), a sample trace never reached Jaeger, or
 * the lake's compaction job failed.
 */
import { pollUntil, PollTimeoutError, sleep } from '../common/poll.ts';
import { queryLake, type QueryResult } from '../lake/index.ts';
import { firstLook } from './first-look.ts';
import { startPlatform } from './platform.ts';
import { DEFAULT_MIX, formatReport, judgeReport, runLoad, type LoadReport } from './load-generator.ts';
import { warmUp } from './warm-up.ts';
import { COMPONENT_ORDER, type ComponentName } from '../stack/components.ts';
import { Stack } from '../stack/stack.ts';
import { etlConfig } from '../etl/config.ts';
import { demoConfig } from '../services/config.ts';
import { startUi, uiConfig, uiLinks, type UiServer } from '../console/index.ts';

export interface DemoOptions {
  /** Run the load for this many seconds, print, and stop; undefined: run until Ctrl-C. */
  durationSeconds?: number;
  /** Requests per second of the main load. @default 20 */
  rate: number;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/**
 * The share of server errors, among requests not asked to fail, above which the demo's run counts as failed. Looser
 * than `observatory load`'s 5 %: a few timeouts on a busy laptop are not a failed demo, a service down is (searches
 * alone are 70 % of the mix).
 */
const MAX_5XX_PERCENT = 20;

/**
 * The stack's components the services need before they start: the store (the catalog seeds it), and the Collector
 * with Jaeger behind it (their telemetry); Prometheus comes up beside them. With SQS dispatch the listener makes its
 * queues at start, so it needs the queue server too; with the local fleet (the default) nothing of the demo uses
 * the queue server, and the demo does not start it (a JVM: ≈ 135 MiB and the slowest start; issue 24).
 */
const SERVICES_NEED: ComponentName[] = [
  's3',
  'jaeger',
  'collector',
  ...(etlConfig().dispatch === 'sqs' ? (['sqs'] as const) : []),
];

/** Every component the demo runs, in start order: the queue server only for SQS dispatch. */
export function demoComponents(dispatch = etlConfig().dispatch): ComponentName[] {
  return COMPONENT_ORDER.filter((name) => name !== 'sqs' || dispatch === 'sqs');
}

export async function demo(options: DemoOptions): Promise<number> {
  const stack = new Stack();
  const wasRunning = (await stack.status()).components.some((c) => c.running);
  // The services need only what they send to and read at start; they start while the rest of the stack comes up.
  await stack.up(SERVICES_NEED);
  say('demo: seeding the catalog and starting gateway, catalog, downloads, users and the ETL listener');
  const [status, platform] = await Promise.all([
    stack.up(demoComponents().filter((name) => !SERVICES_NEED.includes(name))),
    startPlatform().catch(async (error: unknown) => {
      if (!wasRunning) await stack.down();
      throw error;
    }),
  ]);
  const jaeger = status.components.find((c) => c.name === 'jaeger')!.endpoints.query!;
  const prometheus = status.components.find((c) => c.name === 'prometheus')!.endpoints.ui!;
  const ui = await startConsole();
  const stopping = new AbortController();
  // Every wait below takes this signal, so Ctrl-C stops the demo within seconds whatever it is waiting for (a
  // compaction job may run for minutes). Listening until the end: a second Ctrl-C must not leave services running.
  const onSignal = () => stopping.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const failures: string[] = [];
  try {
    const seconds = options.durationSeconds ?? 30;
    // The first look runs beside the warm-up and the load: its link is printed as soon as the console can show that
    // whole trace.
    const first = ui
      ? firstLook(platform.urls.gateway, ui.url, stopping.signal, say).then((url) => {
          if (url) process.stdout.write(`\nFirst trace (its spans, logs and business events): ${url}\n\n`);
        })
      : Promise.resolve();
    if (demoConfig().warmUp) await warm(platform.urls.gateway, options.rate, stopping.signal);
    if (stopping.signal.aborted) return 0;
    say(
      `demo: services up (gateway ${platform.urls.gateway}); load at ${options.rate} req/s for ${seconds} s`,
    );
    const report = await runLoad({
      url: platform.urls.gateway,
      rate: options.rate,
      durationSeconds: seconds,
      mix: DEFAULT_MIX,
      faultRate: 0.02,
      progress: say,
      signal: stopping.signal,
    });
    await first;
    process.stdout.write(`\n${formatReport(report)}\n`);
    // Stopped by the user: what ran is printed, nothing is judged.
    if (stopping.signal.aborted) return 0;
    const served = judgeReport(report, MAX_5XX_PERCENT);
    if (served) failures.push(served);
    const { wanted, found: known } = await tracesInJaeger(jaeger, report, stopping.signal);
    if (stopping.signal.aborted) return 0;
    if (known.length < wanted.length) {
      const missing = wanted.filter((id) => !known.includes(id));
      failures.push(`${missing.length} sample traces never reached Jaeger: ${missing.join(' ')}`);
    }
    say('demo: compacting the business events into the lake (an ETL job)');
    // The summary shows business events: compact those now; the minute-by-minute compaction takes every signal.
    const lake = await compactLake(platform.urls.etl, stopping.signal, ['events']);
    if (stopping.signal.aborted) return 0;
    if (ui)
      process.stdout.write(
        `\nObservatory console\n${uiLinks(ui.url, known.slice(0, 1))
          .map((l) => `  ${l}`)
          .join('\n')}\n`,
      );
    if (lake.error) failures.push(`lake compaction failed: ${lake.error}`);
    process.stdout.write(whereToLook(platform.urls.gateway, jaeger, prometheus, known, report, lake.rows));
    if (options.durationSeconds === undefined && !stopping.signal.aborted) {
      say('demo: running with light background load, compacting the lake every minute; Ctrl-C to stop');
      while (!stopping.signal.aborted) {
        await runLoad({
          url: platform.urls.gateway,
          rate: 2,
          durationSeconds: 60,
          mix: DEFAULT_MIX,
          faultRate: 0.02,
          signal: stopping.signal,
        });
        if (!stopping.signal.aborted) await compactLake(platform.urls.etl, stopping.signal);
      }
    }
  } finally {
    say('demo: stopping the services');
    await ui?.close();
    await platform.stop();
    if (!wasRunning) await stack.down();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  for (const failure of failures) say(`demo: the run failed: ${failure}`);
  return failures.length > 0 ? 1 : 0;
}

/**
 * Warms every route before the load (demo/warm-up.ts), so the load's first seconds measure the demo, not its start.
 * A warm-up that fails only says so: the load that follows shows what is wrong.
 */
async function warm(gateway: string, rate: number, signal: AbortSignal): Promise<void> {
  say('demo: warming up every route (first requests one at a time, a job, then a few seconds of the mix)');
  try {
    const report = await warmUp({ gateway, rate, signal });
    const search = report.burst.byKind.search;
    say(
      `demo: warm in ${report.seconds.toFixed(1)} s; first requests ${report.first
        .map((f) => `${f.route} ${f.status} ${f.ms.toFixed(0)} ms`)
        .join(', ')}${search ? `; then search p95 ${search.p95.toFixed(0)} ms` : ''}`,
    );
  } catch (error) {
    if (!signal.aborted) say(`demo: the warm-up failed: ${(error as Error).message}`);
  }
}

/** The web console on its port (or any free one when that is taken); undefined when it cannot start. */
async function startConsole(): Promise<UiServer | undefined> {
  const config = uiConfig();
  try {
    const ui = await startUi(config).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') throw error;
      say(`demo: port ${config.port} is taken; the console takes a free port`);
      return startUi({ ...config, port: 0 });
    });
    say(`demo: console at ${ui.url}/traces (traces appear as the load runs)`);
    return ui;
  } catch (error) {
    say(`demo: the console did not start: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * Runs a compaction job on the fleet (the given signals, or all four) and returns what the lake then holds per event
 * name, or why it failed. When `signal` aborts it stops waiting at once (no rows, no error): the job is the
 * listener's, and stops with it.
 */
async function compactLake(
  etl: string,
  signal: AbortSignal,
  signals?: string[],
): Promise<{ rows: QueryResult['rows']; error?: string }> {
  try {
    // Events reach the raw zone through the Collector's queue; give the last batch a moment.
    await sleep(3000, signal);
    const id = await submitCompaction(etl, signal, signals);
    say(`demo: compaction job ${id} submitted`);
    const job = await pollUntil(
      `compaction job ${id} to finish`,
      async () => {
        const view = (await (await fetch(`${etl}/jobs/${id}`, { signal })).json()) as { status: string };
        return view.status !== 'queued' && view.status !== 'running' ? view : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, signal },
    );
    if (job.status !== 'done') throw new Error(`compaction job ${id} ended ${job.status}`);
    return { rows: (await queryLake(LAKE_SUMMARY, { tables: ['events'] })).rows };
  } catch (error) {
    if (signal.aborted) return { rows: [] };
    say(`demo: lake compaction failed: ${(error as Error).message}`);
    return { rows: [], error: (error as Error).message };
  }
}

async function submitCompaction(etl: string, signal: AbortSignal, signals?: string[]): Promise<string> {
  const fault = demoConfig().compactionFault;
  const response = await fetch(`${etl}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      kind: 'compaction',
      signals,
      ...(fault ? { fault: { kind: fault, attempts: 1000, chunks: [0] } } : {}),
    }),
    signal,
  });
  if (response.status !== 202) throw new Error(`the ETL listener answered ${response.status}`);
  return ((await response.json()) as { id: string }).id;
}

const LAKE_SUMMARY =
  'SELECT event_name, count(*) AS events, count(DISTINCT trace_id) AS traces FROM events GROUP BY 1 ORDER BY 2 DESC';

/** Waits (at most 20 s: spans arrive in batches) until Jaeger has the sample traces; returns those it has. */
async function tracesInJaeger(
  jaeger: string,
  report: LoadReport,
  signal: AbortSignal,
): Promise<{ wanted: string[]; found: string[] }> {
  const wanted = [
    ...report.sampleTraces.ok.slice(-3),
    ...report.sampleTraces.failed.slice(-2).map((f) => f.traceId),
  ];
  let found: string[] = [];
  try {
    await pollUntil(
      `the sample traces in Jaeger`,
      async () => {
        const checks = await Promise.all(
          wanted.map(async (id) =>
            (await fetch(`${jaeger}/api/traces/${id}`).catch(() => undefined))?.ok ? id : undefined,
          ),
        );
        found = checks.filter((id): id is string => id !== undefined);
        return found.length === wanted.length ? found : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 1000, signal },
    );
  } catch (error) {
    if (!(error instanceof PollTimeoutError)) throw error;
  }
  return { wanted, found };
}

function whereToLook(
  gateway: string,
  jaeger: string,
  prometheus: string,
  traces: string[],
  report: LoadReport,
  lake: QueryResult['rows'],
): string {
  const failed = new Set(report.sampleTraces.failed.map((f) => f.traceId));
  const query = (q: string) => `${prometheus}/api/v1/query?query=${encodeURIComponent(q)}`;
  return `
Where to look
  Traces in Jaeger (API; the UI at ${jaeger} is a placeholder in this build):
${traces.map((id) => `    ${id}${failed.has(id) ? ' (failed request)' : ''}  ${jaeger}/api/traces/${id}\n      npx observatory trace ${id}`).join('\n')}
  Request rate by service:  ${query('sum by (service_name) (rate(traces_span_metrics_calls_total{span_kind="SPAN_KIND_SERVER"}[1m]))')}
  Error rate by service:    ${query('sum by (service_name) (rate(traces_span_metrics_calls_total{span_kind="SPAN_KIND_SERVER",status_code="STATUS_CODE_ERROR"}[1m]))')}
  Business events in the lake (curated Parquet, after compaction):
${lake.map((row) => `    ${String(row.event_name).padEnd(18)} ${String(row.events).padStart(6)} events in ${row.traces} traces`).join('\n') || '    (none yet)'}
    npx observatory lake query "${LAKE_SUMMARY}"
  Try it yourself:          curl -i '${gateway}/api/scenes?bbox=0,40,10,50&from=2026-06-01&to=2026-06-05'
                            (the traceresponse header carries the correlation ID)
`;
}
