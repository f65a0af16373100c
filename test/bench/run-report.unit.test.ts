/**
 * The bench's one table (bench/report.ts) and the full run's report (bench/lib/run-report.ts): whether a target is
 * met, how rows print, how a failed bench stays in the table, and the shape of results.json. No timings here.
 */
import { describe, expect, it } from 'vitest';
import { failedFigure, figureJson, met, ratio, tableOf, type Figure } from '../../bench/report.ts';
import {
  failures,
  markdownReport,
  mergeFigures,
  runReport,
  type BenchOutcome,
} from '../../bench/lib/run-report.ts';

const p1a: Figure = {
  id: 'P1a',
  figure: 'Express route throughput',
  ours: 6000,
  baseline: 20000,
  baselineName: 'uninstrumented',
  unit: 'req/s',
  target: 0.5,
  targetIsRatio: true,
  better: 'higher',
};
const idle: Figure = {
  id: 'MEM.idle.preload',
  figure: 'Idle RSS the preload adds',
  ours: 31.5,
  unit: 'MiB',
  target: 25,
  better: 'lower',
};
const untargeted: Figure = { id: 'x', figure: 'Peak RSS', ours: 120, unit: 'MiB', better: 'lower' };

const machine = {
  cores: 2,
  memoryGiB: 24,
  cpuModel: 'Test CPU @ 2.0GHz',
  loadStart: [1.5, 1.25, 1],
  loadEnd: [2, 1.5, 1.1],
};

describe('a figure against its target', () => {
  it('compares the ratio to the baseline when the target is a ratio', () => {
    expect(ratio(p1a)).toBeCloseTo(0.3);
    expect(met(p1a)).toBe(false);
    expect(met({ ...p1a, ours: 10000 })).toBe(true);
  });

  it('compares the value itself otherwise, in the direction that is better', () => {
    expect(met(idle)).toBe(false);
    expect(met({ ...idle, ours: 25 })).toBe(true);
    expect(met({ ...p1a, targetIsRatio: false, target: 5000 })).toBe(true);
  });

  it('has no verdict without a target, and a failed measurement never meets one', () => {
    expect(met(untargeted)).toBeUndefined();
    expect(met(failedFigure('etl', 'etl bench', new Error('stack down')))).toBe(false);
  });
});

describe('the table', () => {
  it('prints figure, ours, baseline, ratio, target and met? for each row', () => {
    const lines = tableOf([p1a, idle, untargeted]).split('\n');
    expect(lines[0]).toBe('| figure | ours | baseline | ratio | target | met? |');
    expect(lines[2]).toBe(
      '| Express route throughput | 6000 req/s | 20000 req/s (uninstrumented) | 0.30× | ≥ 0.5× | no |',
    );
    expect(lines[3]).toBe('| Idle RSS the preload adds | 31.50 MiB | — | — | ≤ 25.00 MiB | no |');
    expect(lines[4]).toBe('| Peak RSS | 120 MiB | — | — | — | — |');
  });

  it('shows a failure with the first line of its error, pipes escaped', () => {
    const row = tableOf([failedFigure('etl', 'etl bench', new Error('a | b\nstack trace line'))]).split(
      '\n',
    )[2];
    expect(row).toBe('| etl bench | failed: a \\| b | — | — | — | no |');
  });
});

describe('the full run', () => {
  const outcomes: BenchOutcome[] = [
    { name: 'instrumentation', argv: [], seconds: 200.4, figures: [p1a] },
    { name: 'etl', argv: ['--sizes', '1,2'], seconds: 3.2, figures: [], error: 'the stack is not healthy' },
    { name: 'memory', argv: [], seconds: 400, figures: [idle, untargeted] },
    { name: 'profile', argv: [], seconds: 0, figures: [], skipped: 'no cli yet' },
  ];

  it('keeps every bench’s figures in run order and a failed bench as one failed row; a skipped one is no failure', () => {
    const merged = mergeFigures(outcomes);
    expect(merged.map((f) => f.id)).toEqual(['P1a', 'etl', 'MEM.idle.preload', 'x']);
    expect(merged[1]).toMatchObject({ figure: 'etl bench', failed: 'the stack is not healthy' });
    expect(failures(outcomes)).toEqual(['etl']);
  });

  it('counts a bench that returned a failed row among the failures', () => {
    const partly: BenchOutcome = {
      name: 'memory',
      argv: [],
      seconds: 1,
      figures: [idle, failedFigure('MEM.demo', 'Memory: demo', 'platform did not start')],
    };
    expect(failures([outcomes[0]!, partly])).toEqual(['memory']);
  });

  it('writes JSON with the machine, the benches and each figure with its ratio and verdict', () => {
    const report = runReport({
      date: new Date('2026-11-30T15:00:00Z'),
      node: 'v24.0.0',
      commit: 'abc1234',
      quick: false,
      machine,
      outcomes,
    });
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    expect(json).toMatchObject({
      date: '2026-11-30T15:00:00.000Z',
      node: 'v24.0.0',
      commit: 'abc1234',
      machine,
    });
    expect(json.benches).toEqual([
      { name: 'instrumentation', argv: [], seconds: 200, ok: true, figures: 1 },
      {
        name: 'etl',
        argv: ['--sizes', '1,2'],
        seconds: 3,
        ok: false,
        error: 'the stack is not healthy',
        figures: 0,
      },
      { name: 'memory', argv: [], seconds: 400, ok: true, figures: 2 },
      { name: 'profile', argv: [], seconds: 0, ok: true, skipped: 'no cli yet', figures: 0 },
    ]);
    expect(json.figures[0]).toMatchObject({ id: 'P1a', ratio: 0.3, met: false });
    // A failed row has no value: null in JSON, never a number that could be read as measured.
    expect(json.figures[1]).toMatchObject({ id: 'etl', ours: null, ratio: null, met: false });
    expect(json.figures[3]).toMatchObject({ id: 'x', ours: 120, ratio: null, met: null });
  });

  it('heads the Markdown copy with the machine, load, Node, date and commit, then the options and the table', () => {
    const report = runReport({
      date: new Date('2026-11-30T15:00:00Z'),
      node: 'v24.0.0',
      commit: 'abc1234',
      quick: true,
      machine,
      outcomes,
    });
    const text = markdownReport(report, mergeFigures(outcomes));
    expect(text).toContain('(quick smoke run');
    expect(text).toContain('- Machine: 2 cores, 24.0 GiB, Test CPU @ 2.0GHz');
    expect(text).toContain(
      '- Load average (1 / 5 / 15 min): 1.50 / 1.25 / 1.00 at start, 2.00 / 1.50 / 1.10 at end',
    );
    expect(text).toContain('- Node v24.0.0; 2026-11-30T15:00:00.000Z; git commit abc1234');
    expect(text).toContain('| etl | `--sizes 1,2` | 3 | failed: the stack is not healthy |');
    expect(text).toContain('| instrumentation | (defaults) | 200 | 1 figure |');
    expect(text).toContain('| memory | (defaults) | 400 | 2 figures |');
    expect(text).toContain('| profile | (defaults) | 0 | skipped: no cli yet |');
    expect(text).toContain(tableOf(mergeFigures(outcomes)));
  });

  it('writes a figure measured as NaN as null', () => {
    expect(figureJson({ ...untargeted, ours: NaN }).ours).toBeNull();
  });
});
