/**
 * The report of a full bench run (`npm run bench`): every bench's figures merged into one table, a failed bench kept
 * as a failed row, the machine and the run's circumstances above it. Pure functions: bench/run.ts gathers the facts.
 */
import { failedFigure, figureJson, tableOf, type Figure } from '../report.ts';

export interface Machine {
  cores: number;
  memoryGiB: number;
  cpuModel: string;
  /** 1, 5 and 15-minute load averages when the run started and when it ended. */
  loadStart: number[];
  loadEnd: number[];
}

/** What one bench of the run gave: its figures, or the error that stopped it. */
export interface BenchOutcome {
  name: string;
  argv: string[];
  seconds: number;
  figures: Figure[];
  error?: string;
  /** Why it did not run, when it was skipped (not a failure). */
  skipped?: string;
}

export interface RunReport {
  date: string;
  node: string;
  commit: string;
  quick: boolean;
  machine: Machine;
  benches: {
    name: string;
    argv: string[];
    seconds: number;
    ok: boolean;
    error?: string;
    skipped?: string;
    figures: number;
  }[];
  figures: ReturnType<typeof figureJson>[];
}

/** Every bench's figures in run order; a bench that threw becomes one failed row named after it. */
export function mergeFigures(outcomes: BenchOutcome[]): Figure[] {
  return outcomes.flatMap((o) =>
    o.error === undefined ? o.figures : [...o.figures, failedFigure(o.name, `${o.name} bench`, o.error)],
  );
}

/** Names of the benches that failed, or that returned a failed figure. */
export function failures(outcomes: BenchOutcome[]): string[] {
  return outcomes
    .filter((o) => o.error !== undefined || o.figures.some((f) => f.failed !== undefined))
    .map((o) => o.name);
}

export function runReport(facts: {
  date: Date;
  node: string;
  commit: string;
  quick: boolean;
  machine: Machine;
  outcomes: BenchOutcome[];
}): RunReport {
  return {
    date: facts.date.toISOString(),
    node: facts.node,
    commit: facts.commit,
    quick: facts.quick,
    machine: facts.machine,
    benches: facts.outcomes.map((o) => ({
      name: o.name,
      argv: o.argv,
      seconds: Math.round(o.seconds),
      ok: o.error === undefined && !o.figures.some((f) => f.failed !== undefined),
      ...(o.error === undefined ? {} : { error: o.error }),
      ...(o.skipped === undefined ? {} : { skipped: o.skipped }),
      figures: o.figures.length,
    })),
    figures: mergeFigures(facts.outcomes).map(figureJson),
  };
}

function resultOf(bench: RunReport['benches'][number]): string {
  if (bench.skipped !== undefined) return `skipped: ${bench.skipped}`;
  if (!bench.ok)
    return `failed${bench.error ? `: ${bench.error.split('\n')[0]!.replaceAll('|', '\\|')}` : ' (see its failed rows)'}`;
  return `${bench.figures} figure${bench.figures === 1 ? '' : 's'}`;
}

const loads = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' / ');

/** The Markdown copy: machine, Node, date and commit, what ran with which options, then the one table. */
export function markdownReport(report: RunReport, figures: Figure[]): string {
  const m = report.machine;
  const lines = [
    `# Bench results${report.quick ? ' (quick smoke run: short durations, not for the record)' : ''}`,
    '',
    `- Machine: ${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB, ${m.cpuModel}`,
    `- Load average (1 / 5 / 15 min): ${loads(m.loadStart)} at start, ${loads(m.loadEnd)} at end`,
    `- Node ${report.node}; ${report.date}; git commit ${report.commit}`,
    '',
    '| bench | options | seconds | result |',
    '| --- | --- | --- | --- |',
    ...report.benches.map(
      (b) =>
        `| ${b.name} | ${b.argv.length ? `\`${b.argv.join(' ')}\`` : '(defaults)'} | ${b.seconds} | ${resultOf(b)} |`,
    ),
    '',
    tableOf(figures),
    '',
  ];
  return lines.join('\n');
}
