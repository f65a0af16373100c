/**
 * Request overhead of the preload: the same Express app uninstrumented, under the old hand-composed preload (the
 * `instrumentation/` and `common/` of `--baseline`, extracted with `git archive`), and under the current NodeSDK
 * preload, measured side by side in one run (rounds interleaved, so machine noise hits every variant alike). Reports
 * the median throughput of each variant, its ratio to the uninstrumented app, and new against old. Needs the stack up
 * (`npx observatory stack up`) so that telemetry is really exported.
 *
 *   npm run bench -- instrumentation [--seconds 8] [--rounds 3] [--connections 16] [--warmup 6] [--baseline <ref>]
 *
 * The warm-up is long on purpose: the NodeSDK preload loads more modules, and a short warm-up charges the tail of
 * its start-up (JIT, lazily loaded code, the first major GCs) to the measured requests. Start-up is reported apart.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { REPO_ROOT, STATE_ROOT } from '../common/paths.ts';
import { printFigures } from './report.ts';

/** main's HEAD before the NodeSDK preload (issue 12): the hand-composed SDK setup. */
const OLD_PRELOAD = '92b10e9';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    baseline: { type: 'string', default: OLD_PRELOAD },
    warmup: { type: 'string', default: '6' },
  },
  allowPositionals: true,
});

interface Variant {
  name: string;
  args: string[];
  env: Record<string, string>;
}

/** The old preload's files at `ref`, inside the repository (its node_modules resolve) but in the git-ignored state. */
function extractPreload(ref: string): string {
  const dir = join(STATE_ROOT, 'bench', `preload-${ref}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['archive', ref, 'instrumentation', 'common'], { cwd: REPO_ROOT });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  return join(dir, 'instrumentation');
}

const app = join(REPO_ROOT, 'bench', 'fixtures', 'app.cjs');
const oldPreload = extractPreload(values.baseline!);
const SAMPLED = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' };
const variants: Variant[] = [
  { name: 'uninstrumented', args: [app], env: {} },
  { name: `old preload (${values.baseline})`, args: ['--require', oldPreload, app], env: {} },
  { name: 'NodeSDK preload', args: ['--require', './instrumentation', app], env: {} },
  {
    name: `old preload (${values.baseline}), 10 % sampled`,
    args: ['--require', oldPreload, app],
    env: SAMPLED,
  },
  { name: 'NodeSDK preload, 10 % sampled', args: ['--require', './instrumentation', app], env: SAMPLED },
];

interface Sample {
  /** Requests per second over the measured window. */
  rps: number;
  /** CPU time (user + system) the app process spent per request over the same window, in µs. */
  cpuUs: number;
  /** From spawn to the app's LISTENING line, in ms. */
  startMs: number;
}

/** The app's user + system CPU time so far, in µs (Linux /proc; clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ", utime and stime are the 12th and 13th fields.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

async function measure(variant: Variant, seconds: number, connections: number): Promise<Sample> {
  const spawned = performance.now();
  const child = spawn(process.execPath, variant.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, OTEL_SERVICE_NAME: 'bench-app', ...variant.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const match = chunk.toString().match(/LISTENING (\d+)/);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', () => reject(new Error(`${variant.name} exited before listening`)));
    });
    const startMs = performance.now() - spawned;
    const url = `http://127.0.0.1:${port}/api/scenes/S2A_MSIL2A_20260601`;
    await autocannon({ url, connections, duration: Number(values.warmup) }); // JIT, pools, start-up's tail
    const cpuBefore = cpuMicros(child.pid!);
    const result = await autocannon({ url, connections, duration: seconds });
    const cpu = cpuMicros(child.pid!) - cpuBefore;
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${variant.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return { rps: result.requests.average, cpuUs: cpu / result.requests.total, startMs };
  } finally {
    child.kill('SIGTERM');
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const results = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
for (let round = 1; round <= rounds; round++) {
  for (const variant of variants) {
    const sample = await measure(variant, seconds, connections);
    results.get(variant.name)!.push(sample);
    process.stderr.write(
      `round ${round}/${rounds} ${variant.name}: ${sample.rps.toFixed(0)} req/s, ${sample.cpuUs.toFixed(0)} µs CPU per request, started in ${sample.startMs.toFixed(0)} ms\n`,
    );
  }
}
// Throughput swings with whatever else runs on a shared machine; the app's own CPU time per request does much less,
// so the comparison of the two preloads rests on it.
const rps = (name: string) => median(results.get(name)!.map((s) => s.rps));
const cpu = (name: string) => median(results.get(name)!.map((s) => s.cpuUs));
const start = (name: string) => median(results.get(name)!.map((s) => s.startMs));
const baseRps = rps('uninstrumented');
const baseCpu = cpu('uninstrumented');
process.stdout.write(
  `\n| variant | median req/s | ratio to uninstrumented | median CPU µs per request | added µs per request | start-up ms |\n| --- | --- | --- | --- | --- | --- |\n`,
);
for (const { name } of variants) {
  process.stdout.write(
    `| ${name} | ${rps(name).toFixed(0)} | ${(rps(name) / baseRps).toFixed(2)}× | ${cpu(name).toFixed(0)} | ${(cpu(name) - baseCpu).toFixed(0)} | ${start(name).toFixed(0)} |\n`,
  );
}
process.stdout.write(
  `\n${rounds} interleaved rounds of ${seconds} s, ${connections} connections, Node ${process.version}\n`,
);
// The new preload must not cost more than the old one: CPU per request, each the median of the run.
const name = (index: number) => variants[index]!.name;
printFigures([
  {
    id: 'I1',
    figure: 'NodeSDK preload, CPU per request, every request traced',
    ours: cpu(name(2)),
    baseline: cpu(name(1)),
    baselineName: 'old preload',
    unit: 'µs',
    target: 1,
    targetIsRatio: true,
    better: 'lower',
  },
  {
    id: 'I2',
    figure: 'NodeSDK preload, CPU per request, 10 % sampled',
    ours: cpu(name(4)),
    baseline: cpu(name(3)),
    baselineName: 'old preload',
    unit: 'µs',
    target: 1,
    targetIsRatio: true,
    better: 'lower',
  },
  {
    id: 'I4',
    figure: 'NodeSDK preload, start-up to listening',
    ours: start(name(2)),
    baseline: start(name(1)),
    baselineName: 'old preload',
    unit: 'ms',
    better: 'lower',
  },
  {
    id: 'I3',
    figure: 'NodeSDK preload, throughput, every request traced',
    ours: rps(name(2)),
    baseline: rps(name(1)),
    baselineName: 'old preload',
    unit: 'req/s',
    better: 'higher',
  },
]);
