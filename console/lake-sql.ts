/**
 * The first gate of the lake page: a quick look at the SQL's words, for a clear message before DuckDB sees it.
 * The real enforcement is DuckDB's (queryLake's readOnly: one SELECT, no file access outside the lake's cache);
 * this gate names what was refused in the words the user typed.
 */

/** Refused SQL; the message says what and why. */
export class LakeSqlError extends Error {}

const STATEMENTS_REFUSED = new Set([
  'ALTER',
  'ATTACH',
  'CALL',
  'CHECKPOINT',
  'COPY',
  'CREATE',
  'DELETE',
  'DETACH',
  'DROP',
  'EXPORT',
  'IMPORT',
  'INSERT',
  'INSTALL',
  'LOAD',
  'MERGE',
  'PRAGMA',
  'RESET',
  'SET',
  'TRUNCATE',
  'UPDATE',
  'USE',
  'VACUUM',
  'GRANT',
]);

/** Table functions that read files, run SQL given as text or reveal the machine. */
const FUNCTIONS_REFUSED =
  /^(read_\w+|\w+_scan|glob|sniff_csv|parquet_\w+|query|query_table|getenv|duckdb_\w+|pragma_\w+|which_secret|load_aws_credentials)$/i;

const MAX_LENGTH = 20_000;

/** Words (identifiers and keywords) outside string literals, quoted identifiers and comments, and the `;` count. */
function words(sql: string): { words: string[]; semicolons: number[] } {
  const found: string[] = [];
  const semicolons: number[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const close = sql.indexOf(c, i + 1);
      if (close < 0) throw new LakeSqlError(`unterminated ${c === "'" ? 'string' : 'quoted name'}`);
      i = close + 1;
    } else if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new LakeSqlError('unterminated /* comment');
      i = end + 2;
    } else if (c === ';') {
      semicolons.push(i);
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i))!;
      found.push(match[0]);
      i += match[0].length;
    } else i++;
  }
  return { words: found, semicolons };
}

/** Throws LakeSqlError unless `sql` looks like one read-only SELECT or WITH query; returns it without a final `;`. */
export function checkLakeSql(sql: string): string {
  const trimmed = sql.trim();
  if (trimmed === '') throw new LakeSqlError('the query is empty');
  if (trimmed.length > MAX_LENGTH)
    throw new LakeSqlError(`the query is longer than ${MAX_LENGTH} characters`);
  const { words: found, semicolons } = words(trimmed);
  const body =
    semicolons.length === 1 && semicolons[0] === trimmed.length - 1 ? trimmed.slice(0, -1) : trimmed;
  if (semicolons.length > 1 || (semicolons.length === 1 && body === trimmed)) {
    throw new LakeSqlError('only one statement may run: remove the ";" between statements');
  }
  const first = found[0]?.toUpperCase();
  if (first !== 'SELECT' && first !== 'WITH' && first !== 'FROM') {
    throw new LakeSqlError(
      `only a read-only SELECT or WITH query may run here, not ${first ?? 'this'}; the lake page reads, never writes`,
    );
  }
  for (const word of found) {
    if (STATEMENTS_REFUSED.has(word.toUpperCase())) {
      throw new LakeSqlError(
        `${word.toUpperCase()} is not allowed: the lake page runs read-only SELECT queries`,
      );
    }
    if (FUNCTIONS_REFUSED.test(word)) {
      throw new LakeSqlError(
        `${word}() is not allowed: query the lake's tables (events, rejected, logs, metrics, spans), not files or other SQL`,
      );
    }
  }
  return body;
}
