/**
 * One table for every benchmark figure: what was measured, ours, the baseline it is compared with (measured in the
 * same run), the ratio, the target and whether it is met. Printed as Markdown and written as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Figure {
  /** Stable key, e.g. `P1a` or `P3.cpu.10000`. */
  id: string;
  /** What was measured, in words. */
  figure: string;
  ours: number;
  /** The side-by-side baseline (uninstrumented, old, zero-code anchor…), when there is one. */
  baseline?: number;
  /** What the ratio is against, when not obvious (e.g. `uninstrumented`). */
  baselineName?: string;
  unit: string;
  /** The target: compared with the ratio when there is a baseline and `targetIsRatio`, else with `ours`. */
  target?: number;
  targetIsRatio?: boolean;
  better: 'higher' | 'lower';
  /** Extra figures printed beside it (e.g. the zero-code anchor's ratio). */
  note?: string;
}

export function ratio(figure: Figure): number | undefined {
  return figure.baseline ? figure.ours / figure.baseline : undefined;
}

export function met(figure: Figure): boolean | undefined {
  if (figure.target === undefined) return undefined;
  const value = figure.targetIsRatio ? ratio(figure) : figure.ours;
  if (value === undefined) return undefined;
  return figure.better === 'higher' ? value >= figure.target : value <= figure.target;
}

const format = (value: number | undefined, unit = ''): string => {
  if (value === undefined || Number.isNaN(value)) return '—';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 2 : 3;
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
};

export function tableOf(figures: Figure[]): string {
  const lines = [
    '| figure | ours | baseline | ratio | target | met? |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const f of figures) {
    const r = ratio(f);
    const target =
      f.target === undefined
        ? '—'
        : `${f.better === 'higher' ? '≥' : '≤'} ${f.targetIsRatio ? `${f.target}×` : format(f.target, f.unit)}`;
    const ok = met(f);
    lines.push(
      `| ${f.figure}${f.note ? ` (${f.note})` : ''} | ${format(f.ours, f.unit)} | ${format(f.baseline, f.unit)}${f.baselineName ? ` (${f.baselineName})` : ''} | ${r === undefined ? '—' : `${r.toFixed(2)}×`} | ${target} | ${ok === undefined ? '—' : ok ? 'yes' : 'no'} |`,
    );
  }
  return lines.join('\n');
}

export function printFigures(figures: Figure[], jsonFile?: string): void {
  process.stdout.write(`\n${tableOf(figures)}\n`);
  if (jsonFile) {
    mkdirSync(dirname(jsonFile), { recursive: true });
    writeFileSync(
      jsonFile,
      `${JSON.stringify({ date: new Date().toISOString(), node: process.version, figures: figures.map((f) => ({ ...f, ratio: ratio(f), met: met(f) })) }, null, 2)}\n`,
    );
    process.stdout.write(`\n(written to ${jsonFile})\n`);
  }
}
