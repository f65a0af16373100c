/**
 * What Jaeger costs and how fresh its traces are (issue 25), its store and the Collector's Jaeger path side by side,
 * each variant on a stack of its own (ports --base…, a fresh state folder): Badger (the store before) or the memory
 * store bounded by max_traces (the stack's now), each with the whole resource or with the repeated process attributes
 * dropped on the Jaeger path (collector-config/local.yaml, resource/jaeger). Per variant, in this order:
 *   quiet    requests to an app under the preload, one at a time: request end → its trace found in Jaeger (p50, p95)
 *   burst    --spans spans at --rate spans/s through the Collector (demo-like: server spans with client children,
 *            the resource the preload's detectors give): Jaeger's CPU per 10 000 spans/s from /proc (until the
 *            Collector's queue to it is empty, less what the probes cost it, measured while quiet), its peak RSS
 *   after    the minute after the burst: a request every 500 ms, request end → trace in Jaeger (p50, p95)
 *   idle     Jaeger's RSS once the Collector's queue to it is empty and --idle seconds have passed
 *
 *   npm run bench -- jaeger [--variants memory-slim,badger-full,memory-full,badger-slim] [--spans 1000000]
 *                           [--rate 10000] [--spans-per-trace 15] [--max-traces <the stack's>] [--probes 40] [--base 27200]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../common/paths.ts';
import { sleep } from '../common/poll.ts';
import { collectorRoleFiles, mergedCollectorConfig } from '../stack/collector-roles.ts';
import { stackConfig } from '../stack/config.ts';
import { isolatedStack } from '../stack/isolated-stack.ts';
import { jaegerDrained } from './lib/collector-process.ts';
import { appUrl, startApp, type App } from './lib/fixture-app.ts';
import { cpuMs, statusMiB } from './lib/proc.ts';
import { sendBurst } from './lib/span-burst.ts';
import type { Figure } from './report.ts';

interface Variant {
  store: 'memory' | 'badger';
  /** The Collector drops the repeated process attributes on the Jaeger path (as committed). */
  slim: boolean;
  env?: Record<string, string>;
}

/** Badger runs with Go's default GC, as it did: a memory limit below what it holds made it collect constantly. */
const BADGER_GC = { OBSERVATORY_JAEGER_GOMEMLIMIT: 'off' };

const VARIANTS: Record<string, Variant> = {
  'memory-slim': { store: 'memory', slim: true },
  'badger-full': { store: 'badger', slim: false, env: BADGER_GC },
  'memory-full': { store: 'memory', slim: false },
  'badger-slim': { store: 'badger', slim: true, env: BADGER_GC },
};

export interface JaegerRun {
  variant: string;
  sent: number;
  /** How long the load client took to send the burst (the machine's load slows it below --rate). */
  burstSeconds: number;
  /** The machine's 1-minute load average at the end of the run. */
  loadAverage: number;
  jaegerCpuSeconds: number;
  collectorCpuSeconds: number;
  peakRssMiB: number;
  idleRssMiB: number;
  quietMs: number[];
  afterBurstMs: number[];
  /** Probes whose trace did not reach Jaeger within the probe's limit. */
  missed: number;
}

interface Options {
  variants: string[];
  spans: number;
  rate: number;
  spansPerTrace: number;
  maxTraces: number;
  probes: number;
  idleSeconds: number;
  base: number;
}

/** How long one probe waits for its trace before counting it missed. */
const PROBE_LIMIT_MS = 120_000;

export async function runJaegerBench(options: Options): Promise<{ runs: JaegerRun[]; figures: Figure[] }> {
  const runs: JaegerRun[] = [];
  for (const variant of options.variants) {
    const run = await oneRun(variant, options);
    process.stderr.write(`${describe(run)}\n`);
    runs.push(run);
  }
  return { runs, figures: runs.flatMap(figuresOf) };
}

function describe(run: JaegerRun): string {
  return (
    `jaeger ${run.variant}: ${corePer10k(run.jaegerCpuSeconds, run.sent).toFixed(3)} core per 10k spans/s ` +
    `(Collector ${corePer10k(run.collectorCpuSeconds, run.sent).toFixed(3)}), sent ${run.sent} in ` +
    `${run.burstSeconds.toFixed(0)} s, load average ${run.loadAverage.toFixed(1)}, ` +
    `peak RSS ${run.peakRssMiB.toFixed(0)} MiB, idle ${run.idleRssMiB.toFixed(0)} MiB; trace in Jaeger quiet ` +
    `p50/p95 ${percentile(run.quietMs, 0.5).toFixed(0)}/${percentile(run.quietMs, 0.95).toFixed(0)} ms, after the ` +
    `burst ${percentile(run.afterBurstMs, 0.5).toFixed(0)}/${percentile(run.afterBurstMs, 0.95).toFixed(0)} ms ` +
    `(${run.afterBurstMs.length} probes, ${run.missed} missed)`
  );
}

async function oneRun(variant: string, options: Options): Promise<JaegerRun> {
  const change = VARIANTS[variant];
  if (!change)
    throw new Error(`unknown variant ${variant}; expected one of ${Object.keys(VARIANTS).join(', ')}`);
  const bench = isolatedStack('bench-jaeger', options.base, {
    settings: (stateDir) => ({
      ...change.env,
      OBSERVATORY_COLLECTOR_CONFIG: join(stateDir, 'collector.yaml'),
      OBSERVATORY_JAEGER_CONFIG: join(stateDir, 'jaeger.yaml'),
      OBSERVATORY_JAEGER_MAX_TRACES: String(options.maxTraces),
    }),
  });
  writeCollectorConfig(join(bench.stateDir, 'collector.yaml'), change.slim);
  writeJaegerConfig(join(bench.stateDir, 'jaeger.yaml'), change.store, join(bench.stateDir, 'badger'));
  let app: App | undefined;
  try {
    const status = await bench.up();
    const pidOf = (name: string) => status.components.find((c) => c.name === name)!.pid!;
    const jaegerPid = pidOf('jaeger');
    const collectorPid = pidOf('collector');
    const jaegerUrl = `http://127.0.0.1:${bench.stack.config.jaeger.query}`;
    const metricsUrl = `http://127.0.0.1:${bench.stack.config.collector.metrics}/metrics`;
    app = await startApp(
      ['--require', './instrumentation'],
      { ...bench.env, OTEL_SERVICE_NAME: 'bench-probe' },
      false,
    );
    const probe = probeOf(appUrl(app.port), jaegerUrl);
    const quiet: (number | undefined)[] = [];
    const quietCpu = cpuMs(jaegerPid);
    for (let i = 0; i < options.probes; i++) quiet.push(await probe());
    // What one probe costs Jaeger (its trace, and the polls of the query API), taken off the burst's CPU below.
    const perProbeMs = (cpuMs(jaegerPid) - quietCpu) / Math.max(1, options.probes);
    const jaegerCpu = cpuMs(jaegerPid);
    const collectorCpu = cpuMs(collectorPid);
    const url = `http://127.0.0.1:${bench.stack.config.collector.otlpHttp}/v1/traces`;
    const { sent, seconds: burstSeconds } = await sendBurst(url, options);
    const after = await probeWindow(probe, 60_000, 500);
    await jaegerDrained(metricsUrl, 600_000);
    const run = {
      jaegerCpuSeconds: Math.max(0, cpuMs(jaegerPid) - jaegerCpu - after.length * perProbeMs) / 1000,
      collectorCpuSeconds: (cpuMs(collectorPid) - collectorCpu) / 1000,
    };
    await sleep(options.idleSeconds * 1000);
    const done = [...quiet, ...after];
    return {
      variant,
      sent,
      burstSeconds,
      loadAverage: loadavg()[0]!,
      ...run,
      peakRssMiB: statusMiB(jaegerPid, 'VmHWM') ?? NaN,
      idleRssMiB: statusMiB(jaegerPid, 'VmRSS') ?? NaN,
      quietMs: quiet.filter((ms) => ms !== undefined),
      afterBurstMs: after.filter((ms) => ms !== undefined),
      missed: done.filter((ms) => ms === undefined).length,
    };
  } finally {
    await app?.stop();
    await bench.down();
  }
}

/**
 * The local role's Collector config (its files merged); without `slim`, Jaeger's pipeline passes the resource whole.
 */
function writeCollectorConfig(file: string, slim: boolean): void {
  const config = mergedCollectorConfig(collectorRoleFiles('local')) as {
    service: { pipelines: Record<string, { processors?: string[] }> };
  };
  if (!slim) config.service.pipelines['traces/jaeger']!.processors = [];
  writeFileSync(file, stringify(config, { aliasDuplicateObjects: false }));
}

/**
 * The stack's Jaeger config, or for `badger` the same with the Badger store it had before (on disk in `badgerDir`, in
 * the bench stack's state folder, a week's retention).
 */
function writeJaegerConfig(file: string, store: Variant['store'], badgerDir: string): void {
  const config = parse(readFileSync(join(REPO_ROOT, 'deploy', 'local', 'jaeger.yaml'), 'utf8')) as {
    extensions: {
      jaeger_query: { storage: { traces: string } };
      jaeger_storage: { backends: Record<string, unknown> };
    };
    exporters: { jaeger_storage_exporter: { trace_storage: string } };
  };
  if (store === 'badger') {
    const dir = badgerDir;
    for (const sub of ['keys', 'values']) mkdirSync(join(dir, sub), { recursive: true });
    config.extensions.jaeger_storage.backends = {
      badger_store: {
        badger: {
          directories: { keys: `${dir}/keys`, values: `${dir}/values` },
          ephemeral: false,
          ttl: { spans: '168h' },
        },
      },
    };
    config.extensions.jaeger_query.storage.traces = 'badger_store';
    config.exporters.jaeger_storage_exporter.trace_storage = 'badger_store';
  }
  writeFileSync(file, stringify(config));
}

/** A probe: one request to the app, then Jaeger polled for its trace; the ms in between, or undefined (missed). */
function probeOf(url: string, jaegerUrl: string): () => Promise<number | undefined> {
  return async () => {
    const response = await fetch(url);
    await response.arrayBuffer();
    const at = performance.now();
    const traceId = response.headers.get('traceresponse')!.split('-')[1]!;
    while (performance.now() - at < PROBE_LIMIT_MS) {
      if ((await fetch(`${jaegerUrl}/api/traces/${traceId}`)).ok) return performance.now() - at;
      await sleep(50);
    }
    return undefined;
  };
}

/** A probe every `everyMs` for `windowMs` (open loop: a slow probe does not delay the next), all awaited. */
async function probeWindow(
  probe: () => Promise<number | undefined>,
  windowMs: number,
  everyMs: number,
): Promise<(number | undefined)[]> {
  const pending: Promise<number | undefined>[] = [];
  const started = performance.now();
  while (performance.now() - started < windowMs) {
    pending.push(probe());
    await sleep(everyMs);
  }
  return Promise.all(pending);
}

function corePer10k(cpuSeconds: number, sent: number): number {
  return sent === 0 ? NaN : (cpuSeconds * 10_000) / sent;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

function figuresOf(run: JaegerRun): Figure[] {
  const v = run.variant;
  const ms = (values: number[]) => `p50 ${percentile(values, 0.5).toFixed(0)} ms, ${values.length} probes`;
  return [
    {
      id: `jaeger.cpu.${v}`,
      figure: `Jaeger ${v}: CPU per 10k spans/s (Collector ${corePer10k(run.collectorCpuSeconds, run.sent).toFixed(3)})`,
      ours: corePer10k(run.jaegerCpuSeconds, run.sent),
      unit: 'core',
      target: 0.5,
      better: 'lower',
    },
    {
      id: `jaeger.rss.peak.${v}`,
      figure: `Jaeger ${v}: peak RSS, ${run.sent} spans sent`,
      ours: run.peakRssMiB,
      unit: 'MiB',
      target: 300,
      better: 'lower',
    },
    {
      id: `jaeger.rss.idle.${v}`,
      figure: `Jaeger ${v}: RSS idle after the burst`,
      ours: run.idleRssMiB,
      unit: 'MiB',
      target: 300,
      better: 'lower',
    },
    {
      id: `jaeger.fresh.quiet.${v}`,
      figure: `Jaeger ${v}: request end → trace in Jaeger, quiet, p95`,
      ours: percentile(run.quietMs, 0.95),
      unit: 'ms',
      target: 1000,
      better: 'lower',
      note: ms(run.quietMs),
    },
    {
      id: `jaeger.fresh.burst.${v}`,
      figure: `Jaeger ${v}: request end → trace in Jaeger, the minute after the burst, p95`,
      ours: percentile(run.afterBurstMs, 0.95),
      unit: 'ms',
      target: 5000,
      better: 'lower',
      note: `${ms(run.afterBurstMs)}, ${run.missed} missed`,
    },
  ];
}

/** The command line (`npm run bench -- jaeger [options]` or `node bench/jaeger.ts [options]`). */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      variants: { type: 'string', default: Object.keys(VARIANTS).join(',') },
      spans: { type: 'string', default: '1000000' },
      rate: { type: 'string', default: '10000' },
      // The demo's traces hold ≈ 15 spans on average (the soak: spans into Jaeger ÷ requests and jobs).
      'spans-per-trace': { type: 'string', default: '15' },
      'max-traces': { type: 'string', default: String(stackConfig().jaegerMaxTraces) },
      probes: { type: 'string', default: '40' },
      idle: { type: 'string', default: '15' },
      base: { type: 'string', default: '27200' },
    },
  });
  const { figures } = await runJaegerBench({
    variants: values.variants.split(','),
    spans: Number(values.spans),
    rate: Number(values.rate),
    spansPerTrace: Number(values['spans-per-trace']),
    maxTraces: Number(values['max-traces']),
    probes: Number(values.probes),
    idleSeconds: Number(values.idle),
    base: Number(values.base),
  });
  const { printFigures } = await import('./report.ts');
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
