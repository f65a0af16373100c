/** Aligned plain-text tables for terminal output: one column width per column, no trailing spaces. */

export interface TableOptions {
  /** Column indexes aligned to the right (numbers). @default [] */
  right?: number[];
  /** Between two columns. @default two spaces */
  gap?: string;
}

/** The rows (header first, if any) as lines of aligned columns. */
export function formatTable(rows: string[][], options: TableOptions = {}): string[] {
  const { right = [], gap = '  ' } = options;
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(0, ...rows.map((row) => (row[i] ?? '').length)),
  );
  return rows.map((row) =>
    row
      .map((cell, i) => (right.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join(gap)
      .trimEnd(),
  );
}
