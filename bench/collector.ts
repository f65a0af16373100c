/**
 * What the Collector costs (P3): our Collector build with a pipeline config, fed demo-like HTTP server spans over
 * OTLP/protobuf (as SDKs send them) at a fixed rate, on a stack of its own (ports 26000+, its own state folder).
 * Reports the Collector's CPU seconds per 10 000 spans (from /proc, so other load on the machine does not inflate
 * it), its peak RSS, and whether it accepted every span sent. Variants leave out one processor each or put back
 * what a kept change replaced, so the cost of every pipeline stage is measured side by side in one run; the highest
 * lossless rate comes from a rising ladder of rates (--find-max) or, without it, from the fixed rates.
 *
 *   npm run bench -- collector [--rates 10000,30000] [--seconds 30] [--variants full,no-redaction,…]
 *                              [--find-max [--max-start 10000]] [--base 26000]
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { sleep } from '../common/poll.ts';
import { collectorRoleFiles, mergedCollectorConfig } from '../stack/collector-roles.ts';
import type { Figure } from './report.ts';
import { isolatedStack } from '../stack/isolated-stack.ts';
import { jaegerDrained, promSamples } from './lib/collector-process.ts';
import { cpuMs, statusMiB } from './lib/proc.ts';

/** The bench stack's first port (`--base`): another one on the machine at the same time needs a base of its own. */
const DEFAULT_BASE_PORT = 26000;
/** The variant's Collector config, one file in the bench stack's folder. */
const VARIANT_FILE = 'collector-variant.yaml';

interface PipelineConfig {
  processors: Record<string, Record<string, unknown>>;
  exporters: Record<string, Record<string, unknown>>;
  service: { pipelines: { traces: { processors: string[] } } };
}

const without =
  (...names: string[]) =>
  (config: PipelineConfig): void => {
    const traces = config.service.pipelines.traces;
    traces.processors = traces.processors.filter((p) => !names.includes(p));
  };

/** The traces pipeline's redaction processors (`redaction/…`), in pipeline order. */
const redactionsOf = (config: PipelineConfig): string[] =>
  config.service.pipelines.traces.processors.filter((p) => p.startsWith('redaction'));

/** The traces pipeline's mask processor (collector-config/maskprocessor). */
const MASK = 'mask/spans';

/**
 * Before the mask processor (issue 25): the same patterns and ignored keys in two contrib redaction processors, each
 * with an anchored `allowed_values` check that let a value skip its patterns when it lacked what they need, as
 * committed until then. They run on the full build (the local one has no redaction processor): variants that start
 * from this set OBSERVATORY_COLLECTOR_BUILD=full (FULL_BUILD).
 */
function contribRedaction(config: PipelineConfig): void {
  const mask = config.processors[MASK] as { ignored_keys: string[]; patterns: { regex: string }[] };
  const regexes = mask.patterns.map((p) => p.regex);
  config.processors['redaction/addresses-and-tokens'] = {
    allow_all_keys: true,
    ignored_keys: mask.ignored_keys,
    allowed_values: ['^(?:[^@\\sAe]|[Ae]*A[^@\\sAeKS]|[Ae]*e[^@\\sAey])*[Ae]*$'],
    blocked_values: regexes.slice(0, -1),
    summary: 'silent',
  };
  config.processors['redaction/parameters'] = {
    allow_all_keys: true,
    ignored_keys: mask.ignored_keys,
    allowed_values: ['^[^=]*$'],
    blocked_values: regexes.slice(-1),
    summary: 'silent',
  };
  delete config.processors[MASK];
  const traces = config.service.pipelines.traces;
  traces.processors = traces.processors.flatMap((p) =>
    p === MASK ? ['redaction/addresses-and-tokens', 'redaction/parameters'] : [p],
  );
}

/** The environment of a variant that runs the contrib redaction processor: the full build has it. */
const FULL_BUILD = { OBSERVATORY_COLLECTOR_BUILD: 'full' };

/**
 * Before issue 25: one redaction processor with every pattern, each scanned value through all of them, and a summary
 * attribute (`redaction.ignored.count`, `redaction.masked.count`) on every span. Returns that processor's config.
 */
function oneRedactionProcessor(config: PipelineConfig, summary = 'info'): Record<string, unknown> {
  contribRedaction(config);
  const names = redactionsOf(config);
  const first = config.processors[names[0]!]!;
  const redaction = {
    allow_all_keys: true,
    ignored_keys: first.ignored_keys,
    blocked_values: names.flatMap((name) => config.processors[name]!.blocked_values as string[]),
    summary,
  };
  for (const name of names) delete config.processors[name];
  config.processors.redaction = redaction;
  const traces = config.service.pipelines.traces;
  traces.processors = [...traces.processors.filter((p) => !names.includes(p)), 'redaction'];
  return redaction;
}

/** A variant: a change to the local role's Collector config, and/or environment for the stack that starts it. */
interface Variant {
  config?: (config: PipelineConfig) => void;
  env?: Record<string, string>;
}

/** The redaction patterns as committed before they were rewritten for Go's regexp engine (variant `redaction-patterns-before`). */
const PATTERNS_BEFORE: Record<string, string> = {
  'A[KS]IA[0-9A-Z]{16}\\b': '\\b(AKIA|ASIA)[0-9A-Z]{16}\\b',
};
const SECRET_KEYS_BEFORE =
  '(?i)\\b(token|access_token|refresh_token|id_token|api_key|apikey|key|password|passwd|pwd|secret|client_secret|signature|sig|auth|code|session|sessionid|x-amz-signature|x-amz-credential|x-amz-security-token)=[^&\\s#]+';

/**
 * Each variant changes the local role's traces pipeline (base.yaml and local.yaml, merged) or the Collector's
 * environment: `full` is the stack as committed, the others leave a processor out (its cost), try a cheaper form of it
 * (a candidate change), or put back what a kept change replaced (`…-before`, `go-gc-default`), so every change is
 * measured before and after side by side in one run.
 */
const VARIANTS: Record<string, Variant> = {
  full: {},
  /** The masking as it was before the mask processor: two contrib redaction processors (contribRedaction). */
  'redaction-before': { config: contribRedaction, env: FULL_BUILD },
  /** The stack as committed, on the full build: what `redaction-before` compares with, binary for binary. */
  'full-on-full-build': { env: FULL_BUILD },
  'no-redaction': { config: without(MASK) },
  'no-span-names': { config: without('transform/span-names') },
  'no-processors': {
    config: (config) => without('memory_limiter', 'resource', 'transform/span-names', MASK)(config),
  },
  /**
   * Before issue 25 (one processor, every pattern, a summary attribute on every span): the redaction as it was, one
   * pass; and the same but silent, to tell the summary's cost from the patterns'.
   */
  'redaction-one-pass': { config: (config) => void oneRedactionProcessor(config), env: FULL_BUILD },
  'redaction-one-pass-silent': {
    config: (config) => void oneRedactionProcessor(config, 'silent'),
    env: FULL_BUILD,
  },
  /** Before `ignored_keys`: every attribute value scanned with every pattern. */
  'redaction-all-keys': {
    config: (config) => {
      delete oneRedactionProcessor(config).ignored_keys;
    },
    env: FULL_BUILD,
  },
  /**
   * The redaction patterns as they were before being rewritten for Go's backtracking matcher: the AWS key pattern
   * with a leading `\b` (no literal to skip to), the secret-parameter pattern as a flat 21-way alternation tried at
   * every position (now factored by first letter; the same words match).
   */
  'redaction-patterns-before': {
    config: (config) => {
      const redaction = oneRedactionProcessor(config);
      redaction.blocked_values = (redaction.blocked_values as string[]).map((p) =>
        p.startsWith('(?i)\\b(?:t(?:oken)') ? SECRET_KEYS_BEFORE : (PATTERNS_BEFORE[p] ?? p),
      );
    },
    env: FULL_BUILD,
  },
  /** The redaction's patterns as one alternation: one scan of each value instead of one per pattern. */
  'one-redaction-regex': {
    config: (config) => {
      const redaction = oneRedactionProcessor(config);
      const patterns = redaction.blocked_values as string[];
      redaction.blocked_values = [
        patterns.map((p) => `(?:${p.replace(/^\(\?i\)(.*)$/, '(?i:$1)')})`).join('|'),
      ];
    },
    env: FULL_BUILD,
  },
  /** The lake's copy of every span gzipped, as before zstd (issue 17). */
  'raw-traces-gzip': {
    config: (config) => {
      const exporters = (
        config as unknown as { exporters: Record<string, { s3uploader: Record<string, unknown> }> }
      ).exporters;
      exporters['awss3/traces']!.s3uploader.compression = 'gzip';
    },
  },
  /** The lake's copy of every span as OTLP JSON, as before OTLP protobuf (issue 25). */
  'raw-traces-json': {
    config: (config) => {
      config.exporters['awss3/traces']!.marshaler = 'otlp_json';
    },
  },
  /** Not kept (issue 25: no change in CPU at the rates reached, more memory): the lake's copy in batches of 8 192–16 384 spans. */
  'raw-traces-large-batches': {
    config: (config) => {
      const exporter = config.exporters['awss3/traces']!;
      const queue = { ...(exporter.sending_queue as Record<string, unknown>) };
      queue.batch = { ...(queue.batch as Record<string, unknown>), min_size: 8192, max_size: 16384 };
      exporter.sending_queue = queue;
    },
  },
  /**
   * Jaeger's copy with the whole resource, straight from the traces pipeline (no `forward/jaeger` → `resource/jaeger`):
   * what the Collector pays to hand Jaeger a slim copy — the fan-out clones every span for the pipeline that changes it.
   */
  'jaeger-whole-resource': {
    config: (config) => {
      const pipelines = (
        config as unknown as { service: { pipelines: Record<string, { exporters?: string[] }> } }
      ).service.pipelines;
      pipelines.traces!.exporters = pipelines.traces!.exporters!.map((e) =>
        e === 'forward/jaeger' ? 'otlp_grpc/jaeger' : e,
      );
      delete pipelines['traces/jaeger'];
      delete (config as unknown as { connectors: Record<string, unknown> }).connectors['forward/jaeger'];
    },
  },
  /** No span metrics (the RED metrics the dashboards read): what the spanmetrics connector costs per span. */
  'no-spanmetrics': {
    config: (config) => {
      const pipelines = (
        config as unknown as {
          service: { pipelines: Record<string, { exporters?: string[]; receivers?: string[] }> };
        }
      ).service.pipelines;
      pipelines.traces!.exporters = pipelines.traces!.exporters!.filter((e) => e !== 'spanmetrics');
      pipelines.metrics!.receivers = pipelines.metrics!.receivers!.filter((r) => r !== 'spanmetrics');
      delete (config as unknown as { connectors: Record<string, unknown> }).connectors.spanmetrics;
    },
  },
  /** The lake's copy of spans queued in memory instead of on disk (what the disk queue's promise costs). */
  'lake-memory-queue': {
    config: (config) => {
      const exporter = config.exporters['awss3/traces']!;
      const queue = { ...(exporter.sending_queue as Record<string, unknown>) };
      delete queue.storage;
      exporter.sending_queue = queue;
    },
  },
  /** The Collector's soft heap ceiling as before issue 25. */
  'go-memlimit-320': { env: { OBSERVATORY_COLLECTOR_GOMEMLIMIT: '320MiB' } },
  // One core for the Collector's goroutines: on a lightly loaded Go process, idle Ps spin looking for work.
  'gomaxprocs-1': { env: { OBSERVATORY_COLLECTOR_GOMAXPROCS: '1' } },
  /** The Collector's own metrics at level `basic` (the defaults' `normal` adds per-processor item counts). */
  'telemetry-basic': {
    config: (config) => {
      const service = (
        config as unknown as { service: { telemetry?: { metrics?: Record<string, unknown> } } }
      ).service;
      service.telemetry = {
        ...service.telemetry,
        metrics: { ...service.telemetry?.metrics, level: 'basic' },
      };
    },
  },
  /** Both of the above: one core and the basic level of the Collector's own metrics. */
  'gomaxprocs-1-telemetry-basic': {
    env: { OBSERVATORY_COLLECTOR_GOMAXPROCS: '1' },
    config: (config) => VARIANTS['telemetry-basic']!.config!(config),
  },
  /**
   * One redaction processor with both pre-checks in one (a value skips every pattern when it lacks what any of them
   * needs), the patterns in the same order: one pass over each span's values instead of two.
   */
  'redaction-merged': {
    config: (config) => {
      contribRedaction(config);
      const names = redactionsOf(config);
      const [first, second] = names.map((name) => config.processors[name]!);
      const merged = {
        ...first,
        allowed_values: ['^(?:[^@\\s=Ae]|[Ae]*A[^@\\s=AeKS]|[Ae]*e[^@\\s=Aey])*[Ae]*$'],
        blocked_values: [...(first!.blocked_values as string[]), ...(second!.blocked_values as string[])],
      };
      for (const name of names) delete config.processors[name];
      config.processors['redaction'] = merged;
      const traces = config.service.pipelines.traces;
      const at = traces.processors.indexOf(names[0]!);
      traces.processors = traces.processors.filter((p) => !names.includes(p));
      traces.processors.splice(at, 0, 'redaction');
    },
    env: FULL_BUILD,
  },
  /** The disk queues' consumers: 2 instead of the exporter's default 10. */
  'queue-consumers-2': {
    config: (config) => {
      for (const exporter of Object.values(config.exporters))
        if (exporter.sending_queue)
          exporter.sending_queue = {
            ...(exporter.sending_queue as Record<string, unknown>),
            num_consumers: 2,
          };
    },
  },
  /**
   * Every kept change of issue 25 undone at once: one redaction pass with its summary, the lake's spans as JSON,
   * Jaeger's queue on disk, the 320 MiB heap ceiling.
   */
  'before-25': {
    config: (config) => {
      oneRedactionProcessor(config);
      for (const name of ['raw-traces-json', 'jaeger-disk-queue']) VARIANTS[name]!.config!(config);
    },
    env: { ...FULL_BUILD, OBSERVATORY_COLLECTOR_GOMEMLIMIT: '320MiB' },
  },
  /** The Jaeger export gzipped (the otlp_grpc exporter's default), as before `compression: none` on loopback. */
  'jaeger-gzip': {
    config: (config) => {
      const exporters = (config as unknown as { exporters: Record<string, Record<string, unknown>> })
        .exporters;
      exporters['otlp_grpc/jaeger']!.compression = 'gzip';
    },
  },
  /** Jaeger's sending queue on disk, as before issue 25 (the lake's queues' settings). */
  'jaeger-disk-queue': {
    config: (config) => {
      const exporters = config.exporters as Record<string, { sending_queue: Record<string, unknown> }>;
      exporters['otlp_grpc/jaeger']!.sending_queue = { ...exporters['awss3/traces']!.sending_queue };
    },
  },
  /** Every kept change of issue 17 undone at once: the stack as it was, for one before/after ratio per run. */
  'all-before': {
    config: (config) => {
      for (const name of ['redaction-patterns-before', 'raw-traces-gzip', 'jaeger-gzip'])
        VARIANTS[name]!.config!(config);
    },
    env: { ...FULL_BUILD, OBSERVATORY_COLLECTOR_GOGC: '100', OBSERVATORY_COLLECTOR_GOMEMLIMIT: 'off' },
  },
  /** Go's default garbage collector settings (GOGC 100, no memory limit) instead of the stack's. */
  'go-gc-default': { env: { OBSERVATORY_COLLECTOR_GOGC: '100', OBSERVATORY_COLLECTOR_GOMEMLIMIT: 'off' } },
  /** Jaeger's garbage collector (Go's defaults in the stack): fewer collections, or a soft ceiling on its heap. */
  'jaeger-gogc-200': { env: { OBSERVATORY_JAEGER_GOGC: '200', OBSERVATORY_JAEGER_GOMEMLIMIT: '512MiB' } },
  'jaeger-memlimit-256': { env: { OBSERVATORY_JAEGER_GOMEMLIMIT: '256MiB' } },
};

export interface CollectorRun {
  variant: string;
  rate: number;
  sent: number;
  accepted: number;
  cpuSeconds: number;
  peakRssMiB: number;
  /** What Jaeger (Badger store) spent on the same spans, from the start of the load until the pipeline drained. */
  jaegerCpuSeconds: number;
  jaegerPeakRssMiB: number;
}

export async function runCollectorBench(options: {
  rates: number[];
  seconds: number;
  variants: string[];
  base?: number;
}): Promise<{ runs: CollectorRun[]; figures: Figure[] }> {
  const runs: CollectorRun[] = [];
  for (const variant of options.variants) {
    for (const rate of options.rates) {
      const run = await oneRun(variant, rate, options.seconds, options.base ?? DEFAULT_BASE_PORT);
      process.stderr.write(
        `collector ${variant} @ ${rate}/s (sent ${(run.sent / options.seconds).toFixed(0)}/s): ` +
          `${corePer10k(run.cpuSeconds, run.sent).toFixed(3)} core per 10k spans/s, ` +
          `accepted ${run.accepted}/${run.sent}, peak RSS ${run.peakRssMiB.toFixed(0)} MiB; ` +
          `Jaeger ${corePer10k(run.jaegerCpuSeconds, run.sent).toFixed(3)} core per 10k, ` +
          `peak RSS ${run.jaegerPeakRssMiB.toFixed(0)} MiB\n`,
      );
      runs.push(run);
    }
  }
  return { runs, figures: figuresOf(runs) };
}

/**
 * Cores used per 10 000 spans/s, from what was really sent (a load client that falls behind sends fewer):
 * CPU seconds ÷ (spans sent ÷ 10 000).
 */
function corePer10k(cpuSeconds: number, sent: number): number {
  return sent === 0 ? NaN : (cpuSeconds * 10_000) / sent;
}

function figuresOf(runs: CollectorRun[]): Figure[] {
  const figures: Figure[] = [];
  const full = runs.filter((r) => r.variant === 'full');
  for (const run of full) {
    figures.push({
      id: `P3.cpu.${run.rate}`,
      figure: `Collector CPU, full pipeline, ${run.rate} spans/s (core per 10k spans/s)`,
      ours: corePer10k(run.cpuSeconds, run.sent),
      unit: 'core',
      target: 0.12,
      better: 'lower',
    });
    figures.push({
      id: `P3.lossless.${run.rate}`,
      figure: `Collector accepted of sent at ${run.rate} spans/s`,
      ours: run.accepted / run.sent,
      unit: 'share',
      target: 1,
      better: 'higher',
    });
    figures.push({
      id: `P3.jaeger.${run.rate}`,
      figure: `Jaeger storing the same spans in Badger, ${run.rate} spans/s (core per 10k spans/s)`,
      ours: corePer10k(run.jaegerCpuSeconds, run.sent),
      unit: 'core',
      better: 'lower',
      note: `peak RSS ${run.jaegerPeakRssMiB.toFixed(0)} MiB`,
    });
    figures.push({
      id: `P3.rss.${run.rate}`,
      figure: `Collector peak RSS at ${run.rate} spans/s`,
      ours: run.peakRssMiB,
      unit: 'MiB',
      better: 'lower',
    });
  }
  for (const run of runs.filter((r) => r.variant !== 'full')) {
    const baseline = full.find((f) => f.rate === run.rate);
    figures.push({
      id: `P3.stage.${run.variant}.${run.rate}`,
      figure: `Collector ${run.variant} vs full, ${run.rate} spans/s (core per 10k spans/s)`,
      ours: corePer10k(run.cpuSeconds, run.sent),
      baseline: baseline ? corePer10k(baseline.cpuSeconds, baseline.sent) : undefined,
      unit: 'core',
      better: 'lower',
    });
  }
  return figures;
}

async function oneRun(variant: string, rate: number, seconds: number, base: number): Promise<CollectorRun> {
  const change = VARIANTS[variant];
  if (!change)
    throw new Error(`unknown variant ${variant}; expected one of ${Object.keys(VARIANTS).join(', ')}`);
  const bench = isolatedStack('bench-collector', base, {
    settings: (stateDir) => ({
      ...change.env,
      OBSERVATORY_COLLECTOR_CONFIG: join(stateDir, VARIANT_FILE),
    }),
  });
  writeVariantConfig(join(bench.stateDir, VARIANT_FILE), change.config ?? (() => {}));
  try {
    const status = await bench.up();
    const collector = status.components.find((c) => c.name === 'collector')!;
    const pid = collector.pid!;
    const jaegerPid = status.components.find((c) => c.name === 'jaeger')!.pid!;
    const metricsUrl = `http://127.0.0.1:${base + 3}/metrics`;
    const acceptedBefore = await acceptedSpans(metricsUrl);
    const cpuBefore = cpuMs(pid) / 1000;
    const jaegerCpuBefore = cpuMs(jaegerPid) / 1000;
    const sent = await generate(`http://127.0.0.1:${base + 1}/v1/traces`, rate, seconds);
    // The receiver has answered every request by now; give the pipeline a moment to drain before reading CPU.
    await sleep(2000);
    const cpu = cpuMs(pid) / 1000 - cpuBefore;
    const accepted = (await acceptedSpans(metricsUrl)) - acceptedBefore;
    // Jaeger is last in line: wait until the Collector's queue to it is empty before reading its CPU.
    await jaegerDrained(metricsUrl, 30_000);
    return {
      variant,
      rate,
      sent,
      accepted,
      cpuSeconds: cpu,
      peakRssMiB: statusMiB(pid, 'VmHWM') ?? 0,
      jaegerCpuSeconds: cpuMs(jaegerPid) / 1000 - jaegerCpuBefore,
      jaegerPeakRssMiB: statusMiB(jaegerPid, 'VmHWM') ?? 0,
    };
  } finally {
    await bench.down();
  }
}

/**
 * The local role's config (its files merged as the Collector merges them) with the variant's change applied, written
 * as one file to `file` (in the bench stack's folder).
 */
function writeVariantConfig(file: string, change: (config: PipelineConfig) => void): void {
  const config = mergedCollectorConfig(collectorRoleFiles('local')) as unknown as PipelineConfig;
  change(config);
  writeFileSync(file, stringify(config, { aliasDuplicateObjects: false }));
}

/** Runs the load client in a child process, so its CPU is not the Collector's and its pace is its own. */
function generate(url: string, rate: number, seconds: number): Promise<number> {
  const child = fork(fileURLToPath(new URL('./fixtures/span-load.ts', import.meta.url)), [], {
    env: { ...process.env, BENCH_URL: url, BENCH_RATE: String(rate), BENCH_SECONDS: String(seconds) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { sent: number }) => resolve(message.sent));
    child.once('exit', (code) => code !== 0 && reject(new Error(`span load client exited with ${code}`)));
  });
}

async function acceptedSpans(url: string): Promise<number> {
  const text = await (await fetch(url)).text();
  return promSamples(text, 'otelcol_receiver_accepted_spans').reduce((sum, s) => sum + s.value, 0);
}

/**
 * The highest lossless rate: the full pipeline at rising rates (each step ×1.5) until the Collector refuses or loses
 * spans, or the load client (on the same cores) cannot send more. Returns every step's run.
 */
async function findMax(start: number, seconds: number, base: number): Promise<CollectorRun[]> {
  const runs: CollectorRun[] = [];
  for (let rate = start; ; rate = Math.round(rate * 1.5)) {
    const run = await oneRun('full', rate, seconds, base);
    runs.push(run);
    const sentPerSecond = run.sent / seconds;
    process.stderr.write(
      `collector find-max @ ${rate}/s: sent ${sentPerSecond.toFixed(0)}/s, accepted ${run.accepted}/${run.sent}, ` +
        `${corePer10k(run.cpuSeconds, run.sent).toFixed(3)} core per 10k spans/s\n`,
    );
    if (run.accepted < run.sent) break;
    // The load client fell behind the rate asked for: a higher rate would not send more.
    if (sentPerSecond < rate * 0.9) break;
  }
  return runs;
}

function maxFigure(runs: CollectorRun[], seconds: number): Figure {
  const lossless = runs.filter((r) => r.sent > 0 && r.accepted >= r.sent);
  const best = Math.max(0, ...lossless.map((r) => r.sent / seconds));
  const last = runs.at(-1)!;
  const lastSent = last.sent / seconds;
  const limitedBy =
    last.accepted < last.sent
      ? `the Collector lost spans at ${last.rate}/s`
      : lastSent < last.rate * 0.9
        ? `the load client sent only ${lastSent.toFixed(0)}/s when asked for ${last.rate}/s`
        : `no loss up to the highest rate tried`;
  return {
    id: 'P3.max-lossless',
    figure: 'Collector highest lossless rate, full pipeline (spans/s, accepted == sent)',
    ours: best,
    unit: 'spans/s',
    better: 'higher',
    note: `ladder ${runs.map((r) => r.rate).join(', ')}; stopped: ${limitedBy}`,
  };
}

/** The command line (`npm run bench -- collector [options]` or `node bench/collector.ts [options]`). */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rates: { type: 'string', default: '10000,30000' },
      seconds: { type: 'string', default: '30' },
      variants: { type: 'string', default: Object.keys(VARIANTS).join(',') },
      'find-max': { type: 'boolean', default: false },
      'max-start': { type: 'string', default: '10000' },
      base: { type: 'string', default: String(DEFAULT_BASE_PORT) },
    },
  });
  const seconds = Number(values.seconds);
  const base = Number(values.base);
  const { runs, figures } = await runCollectorBench({
    rates: values.rates.split(',').map(Number),
    seconds,
    variants: values.variants.split(','),
    base,
  });
  // Without --find-max, the highest lossless rate among the full pipeline's fixed rates.
  const fixed = runs.filter((r) => r.variant === 'full');
  const ladder = values['find-max']
    ? [...fixed, ...(await findMax(Number(values['max-start']), seconds, base))]
    : fixed;
  if (ladder.length > 0) figures.push(maxFigure(ladder, seconds));
  const { printFigures } = await import('./report.ts');
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
