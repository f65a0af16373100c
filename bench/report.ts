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
  /** Set when the measurement failed: why (the row stays in the table, never met). */
  failed?: string;
}

/** A row for a measurement, or a whole bench, that failed: kept in the table so the failure is seen. */
export function failedFigure(id: string, figure: string, error: unknown): Figure {
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.trim().split('\n')[0] ?? '';
  return {
    id,
    figure,
    ours: NaN,
    unit: '',
    better: 'higher',
    failed: firstLine.length > 160 ? `${firstLine.slice(0, 159)}…` : firstLine || 'failed',
  };
}

export function ratio(figure: Figure): number | undefined {
  return figure.baseline ? figure.ours / figure.baseline : undefined;
}

export function met(figure: Figure): boolean | undefined {
  if (figure.failed !== undefined) return false;
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
    const ours =
      f.failed !== undefined ? `failed: ${f.failed.replaceAll('|', '\\|')}` : format(f.ours, f.unit);
    lines.push(
      `| ${f.figure}${f.note ? ` (${f.note})` : ''} | ${ours} | ${format(f.baseline, f.unit)}${f.baselineName ? ` (${f.baselineName})` : ''} | ${r === undefined ? '—' : `${r.toFixed(2)}×`} | ${target} | ${ok === undefined ? '—' : ok ? 'yes' : 'no'} |`,
    );
  }
  return lines.join('\n');
}

/** A figure as written to JSON: with its ratio and whether it met its target; NaN (never measured) as null. */
export function figureJson(figure: Figure): Figure & { ratio: number | null; met: boolean | null } {
  const r = ratio(figure);
  return {
    ...figure,
    ours: (Number.isFinite(figure.ours) ? figure.ours : null) as number,
    ratio: r !== undefined && Number.isFinite(r) ? r : null,
    met: met(figure) ?? null,
  };
}

export function printFigures(figures: Figure[], jsonFile?: string): void {
  process.stdout.write(`\n${tableOf(figures)}\n`);
  if (jsonFile) {
    mkdirSync(dirname(jsonFile), { recursive: true });
    writeFileSync(
      jsonFile,
      `${JSON.stringify({ date: new Date().toISOString(), node: process.version, figures: figures.map(figureJson) }, null, 2)}\n`,
    );
    process.stdout.write(`\n(written to ${jsonFile})\n`);
  }
}
