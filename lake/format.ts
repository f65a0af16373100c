/** Query results for people (an aligned table) or programs (JSON). */
import { formatTable as alignTable } from '../common/table.ts';
import type { QueryResult } from './query.ts';

const MAX_CELL = 60;

export function formatJson(result: QueryResult): string {
  return `${JSON.stringify(result.rows, null, 2)}\n`;
}

export function formatTable(result: QueryResult): string {
  const cell = (value: unknown): string => {
    const text =
      value === null || value === undefined
        ? ''
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
    const line = text.replace(/\s+/g, ' ');
    return line.length > MAX_CELL ? `${line.slice(0, MAX_CELL - 1)}…` : line;
  };
  const cells = result.rows.map((row) => result.columns.map((column) => cell(row[column])));
  const widths = result.columns.map((column, i) =>
    Math.max(column.length, ...cells.map((r) => r[i]!.length)),
  );
  const out = alignTable([result.columns, widths.map((w) => '-'.repeat(w)), ...cells]);
  out.push(`(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'})`);
  return `${out.join('\n')}\n`;
}

/** RFC 4180 CSV: a header line, then one line per row; maps and lists as JSON. */
export function formatCsv(result: QueryResult): string {
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [
    result.columns.map(cell).join(','),
    ...result.rows.map((row) => result.columns.map((c) => cell(row[c])).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}
