/**
 * Request overhead of the preload: the same Express app uninstrumented, under the old hand-composed preload (the
 * `instrumentation/` and `common/` of `--baseline`, extracted with `git archive`), and under the current NodeSDK
 * preload, measured side by side in one run (rounds interleaved, so machine noise hits every variant alike). Reports
 * the median throughput of each variant, its ratio to the uninstrumented app, and new against old. Needs the stack up
 * (`npx observatory stack up`) so that telemetry is really exported.
 *
 *   npm run bench -- instrumentation [--seconds 8] [--rounds 3] [--connections 16] [--baseline <git ref>]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
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

async function measure(variant: Variant, seconds: number, connections: number): Promise<number> {
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
    const url = `http://127.0.0.1:${port}/api/scenes/S2A_MSIL2A_20260601`;
    await autocannon({ url, connections, duration: 2 }); // warm-up: JIT, connection pools
    const result = await autocannon({ url, connections, duration: seconds });
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${variant.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return result.requests.average;
  } finally {
    child.kill('SIGTERM');
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const results = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (let round = 1; round <= rounds; round++) {
  for (const variant of variants) {
    const rps = await measure(variant, seconds, connections);
    results.get(variant.name)!.push(rps);
    process.stderr.write(`round ${round}/${rounds} ${variant.name}: ${rps.toFixed(0)} req/s\n`);
  }
}
const baseline = median(results.get('uninstrumented')!);
process.stdout.write(`\n| variant | median req/s | ratio to uninstrumented |\n| --- | --- | --- |\n`);
for (const [name, samples] of results) {
  process.stdout.write(
    `| ${name} | ${median(samples).toFixed(0)} | ${(median(samples) / baseline).toFixed(2)}× |\n`,
  );
}
process.stdout.write(
  `\n${rounds} interleaved rounds of ${seconds} s, ${connections} connections, Node ${process.version}\n`,
);
// The new preload must not be slower than the old one: its throughput over the old one's, each median of the run.
const at = (index: number) => median(results.get(variants[index]!.name)!);
printFigures([
  {
    id: 'I1',
    figure: 'NodeSDK preload req/s, every request traced',
    ours: at(2),
    baseline: at(1),
    baselineName: 'old preload',
    unit: 'req/s',
    target: 1,
    targetIsRatio: true,
    better: 'higher',
  },
  {
    id: 'I2',
    figure: 'NodeSDK preload req/s, 10 % sampled',
    ours: at(4),
    baseline: at(3),
    baselineName: 'old preload',
    unit: 'req/s',
    target: 1,
    targetIsRatio: true,
    better: 'higher',
  },
]);
