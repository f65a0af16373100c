/**
 * What the Collector costs (P3): our Collector build with a pipeline config, fed demo-like HTTP server spans over
 * OTLP/protobuf (as SDKs send them) at a fixed rate, on a stack of its own (ports 26000+, its own state folder).
 * Reports the Collector's CPU seconds per 10 000 spans (from /proc, so other load on the machine does not inflate
 * it), its peak RSS, and whether it accepted every span sent. Variants leave out one processor each, so the cost
 * of every pipeline stage is measured side by side in one run.
 *
 *   npm run bench -- collector [--rates 10000,30000] [--seconds 30] [--variants full,no-redaction,…]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../common/paths.ts';
import { sleep } from '../common/poll.ts';
import { portEnvironment, stackConfig } from '../cli/stack/config.ts';
import { Stack } from '../cli/stack/stack.ts';
import type { Figure } from './report.ts';

const BASE_PORT = 26000;

interface PipelineConfig {
  processors: Record<string, Record<string, unknown>>;
  service: { pipelines: { traces: { processors: string[] } } };
}

const without =
  (...names: string[]) =>
  (config: PipelineConfig): void => {
    const traces = config.service.pipelines.traces;
    traces.processors = traces.processors.filter((p) => !names.includes(p));
  };

/**
 * Each variant changes collector-config/local.yaml's traces pipeline: `full` is the file as committed, the others
 * leave a processor out (its cost) or try a cheaper form of it (a candidate change).
 */
const VARIANTS: Record<string, (config: PipelineConfig) => void> = {
  full: () => {},
  'no-redaction': without('redaction'),
  'no-span-names': without('transform/span-names'),
  'no-processors': without('memory_limiter', 'resource', 'transform/span-names', 'redaction'),
  /**
   * The redaction skips attributes that by their semantic conventions hold a method, a status code, a route template,
   * an address, a port or a protocol — never free text — instead of scanning every value with every pattern.
   */
  'redaction-ignored-keys': (config) => {
    config.processors.redaction!.ignored_keys = SAFE_KEYS;
  },
  /** The redaction's patterns as one alternation: one scan of each value instead of one per pattern. */
  'one-redaction-regex': (config) => {
    const redaction = config.processors.redaction!;
    const patterns = redaction.blocked_values as string[];
    redaction.blocked_values = [
      patterns.map((p) => `(?:${p.replace(/^\(\?i\)(.*)$/, '(?i:$1)')})`).join('|'),
    ];
  },
};

/** Span attributes whose values are enums, numbers, route templates or addresses by their semantic conventions. */
const SAFE_KEYS = [
  'http.request.method',
  'http.response.status_code',
  'http.route',
  'url.scheme',
  'server.address',
  'server.port',
  'client.address',
  'client.port',
  'network.protocol.name',
  'network.protocol.version',
  'network.peer.address',
  'network.peer.port',
  'network.transport',
  'network.type',
];

export interface CollectorRun {
  variant: string;
  rate: number;
  sent: number;
  accepted: number;
  cpuSeconds: number;
  peakRssMiB: number;
}

export async function runCollectorBench(options: {
  rates: number[];
  seconds: number;
  variants: string[];
}): Promise<{ runs: CollectorRun[]; figures: Figure[] }> {
  const runs: CollectorRun[] = [];
  for (const variant of options.variants) {
    for (const rate of options.rates) {
      const run = await oneRun(variant, rate, options.seconds);
      process.stderr.write(
        `collector ${variant} @ ${rate}/s (sent ${(run.sent / options.seconds).toFixed(0)}/s): ` +
          `${corePer10k(run, options.seconds).toFixed(3)} core per 10k spans/s, ` +
          `accepted ${run.accepted}/${run.sent}, peak RSS ${run.peakRssMiB.toFixed(0)} MiB\n`,
      );
      runs.push(run);
    }
  }
  return { runs, figures: figuresOf(runs, options.seconds) };
}

/**
 * Cores used per 10 000 spans/s, from what was really sent (a load client that falls behind sends fewer):
 * CPU seconds ÷ (spans sent ÷ 10 000).
 */
function corePer10k(run: CollectorRun, _seconds: number): number {
  return run.sent === 0 ? NaN : (run.cpuSeconds * 10_000) / run.sent;
}

function figuresOf(runs: CollectorRun[], seconds: number): Figure[] {
  const figures: Figure[] = [];
  const full = runs.filter((r) => r.variant === 'full');
  for (const run of full) {
    figures.push({
      id: `P3.cpu.${run.rate}`,
      figure: `Collector CPU, full pipeline, ${run.rate} spans/s (core per 10k spans/s)`,
      ours: corePer10k(run, seconds),
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
      ours: corePer10k(run, seconds),
      baseline: baseline ? corePer10k(baseline, seconds) : undefined,
      unit: 'core',
      better: 'lower',
    });
  }
  return figures;
}

async function oneRun(variant: string, rate: number, seconds: number): Promise<CollectorRun> {
  const stateDir = mkdtempSync(join(tmpdir(), 'observatory-bench-collector-'));
  const env: Record<string, string | undefined> = { ...process.env, OBSERVATORY_STACK_DIR: stateDir };
  Object.assign(env, portEnvironment(BASE_PORT));
  const change = VARIANTS[variant];
  if (!change)
    throw new Error(`unknown variant ${variant}; expected one of ${Object.keys(VARIANTS).join(', ')}`);
  env.OBSERVATORY_COLLECTOR_CONFIG = variantConfig(stateDir, change);
  const stack = new Stack({ config: stackConfig(env), say: () => {} });
  try {
    const status = await stack.up();
    if (!status.healthy) throw new Error(`bench stack in ${stateDir} is not healthy`);
    const collector = status.components.find((c) => c.name === 'collector')!;
    const pid = collector.pid!;
    const metricsUrl = `http://127.0.0.1:${BASE_PORT + 3}/metrics`;
    const acceptedBefore = await acceptedSpans(metricsUrl);
    const cpuBefore = cpuSeconds(pid);
    const sent = await generate(`http://127.0.0.1:${BASE_PORT + 1}/v1/traces`, rate, seconds);
    // The receiver has answered every request by now; give the pipeline a moment to drain before reading CPU.
    await sleep(2000);
    const cpu = cpuSeconds(pid) - cpuBefore;
    const accepted = (await acceptedSpans(metricsUrl)) - acceptedBefore;
    return { variant, rate, sent, accepted, cpuSeconds: cpu, peakRssMiB: peakRssMiB(pid) };
  } finally {
    await stack.down();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** collector-config/local.yaml with the variant's change applied, written into the bench stack's folder. */
function variantConfig(dir: string, change: (config: PipelineConfig) => void): string {
  const config = parse(
    readFileSync(join(REPO_ROOT, 'collector-config', 'local.yaml'), 'utf8'),
  ) as PipelineConfig;
  change(config);
  const file = join(dir, 'collector-variant.yaml');
  writeFileSync(file, stringify(config, { aliasDuplicateObjects: false }));
  return file;
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
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('otelcol_receiver_accepted_spans')) total += Number(line.split(' ').at(-1));
  return total;
}

function cpuSeconds(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat (after the command in parentheses): user and system time in clock ticks.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0);
  return kb / 1024;
}

/** The command line (`npm run bench -- <name>` or `node bench/<name>.ts`). */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rates: { type: 'string', default: '10000,30000' },
      seconds: { type: 'string', default: '30' },
      variants: { type: 'string', default: Object.keys(VARIANTS).join(',') },
    },
  });
  const { figures } = await runCollectorBench({
    rates: values.rates.split(',').map(Number),
    seconds: Number(values.seconds),
    variants: values.variants.split(','),
  });
  const { printFigures } = await import('./report.ts');
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
