/**
 * What binding a request's EventEmitters to its context costs (issue 24): the http instrumentation binds every
 * incoming request and its response to the request's context, and each event they emit then runs in it. One
 * "request" here is what the http instrumentation does to them — two emitters bound, one listener added (its
 * `close`) — and the five events a GET's request and response emit, in a loop (bench/fixtures/context-binding.cjs),
 * CPU from `process.cpuUsage`: under the preload (its context manager) against upstream's AsyncLocalStorage context
 * manager, each in a process of its own, rounds interleaved, medians. In-process work without I/O: a busy machine
 * moves it far less than the request benchmarks.
 *
 *   npm run bench -- context-binding [--requests 500000] [--rounds 5]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../common/paths.ts';
import { printFigures, type Figure } from './report.ts';

const WORKER = join(REPO_ROOT, 'bench', 'fixtures', 'context-binding.cjs');

/** The preload with nothing exported: only its context manager is measured. */
const QUIET = { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };

function nsPerRequest(variant: 'preload' | 'upstream', count: number): number {
  const args = variant === 'preload' ? ['--require', './instrumentation'] : [];
  const out = execFileSync(process.execPath, [...args, WORKER, variant, String(count)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...QUIET },
    encoding: 'utf8',
  });
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { nsPerRequest: number }).nsPerRequest;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: { requests: { type: 'string', default: '500000' }, rounds: { type: 'string', default: '5' } },
  });
  const samples = { preload: [] as number[], upstream: [] as number[] };
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const variant of ['preload', 'upstream'] as const)
      samples[variant].push(nsPerRequest(variant, Number(values.requests)));
  }
  const figures: Figure[] = [
    {
      id: 'CTX.bind',
      figure: "A request's two emitters bound to its context and their five events, CPU per request",
      ours: median(samples.preload),
      baseline: median(samples.upstream),
      baselineName: "upstream's AsyncLocalStorage context manager",
      unit: 'ns',
      better: 'lower',
    },
  ];
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
