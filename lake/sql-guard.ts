/**
 * `lake query` runs read-only SQL over the lake's tables and nothing else. Two layers:
 *  1. Before running, the statement is checked: statements that write, configure or load anything (COPY, ATTACH,
 *     INSTALL, LOAD, PRAGMA, SET, CREATE, INSERT, UPDATE, DELETE, DROP, EXPORT…) and table functions or quoted paths
 *     that read files or URLs (read_csv, read_parquet, read_json, glob, 'file.csv'…) are refused with a sentence
 *     saying which, as a ReadOnlySqlError (the CLI exits 2). DuckDB's own parser decides (json_serialize_sql only
 *     serialises SELECT statements), so comments or odd spacing cannot hide a statement.
 *  2. The engine itself: after the views are created, external access is switched off except for the lake's cache
 *     folder, and the configuration is locked, so anything the check missed still cannot read outside the lake.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from './compact.ts';

export class ReadOnlySqlError extends Error {}

const WRITE_OR_ADMIN = new Set([
  'ALTER',
  'ANALYZE',
  'ATTACH',
  'BEGIN',
  'CALL',
  'CHECKPOINT',
  'COMMENT',
  'COMMIT',
  'COPY',
  'CREATE',
  'DEALLOCATE',
  'DELETE',
  'DETACH',
  'DROP',
  'EXECUTE',
  'EXPORT',
  'IMPORT',
  'INSERT',
  'INSTALL',
  'LOAD',
  'MERGE',
  'PRAGMA',
  'PREPARE',
  'RESET',
  'ROLLBACK',
  'SET',
  'TRUNCATE',
  'UPDATE',
  'USE',
  'VACUUM',
]);

/** Table functions that compute rows without reading anything. */
const SAFE_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest', 'json_each', 'json_tree']);

/** Catalog schemas a query may read (they describe the in-memory database, nothing else). */
const CATALOG_SCHEMAS = new Set(['information_schema', 'pg_catalog']);

/**
 * Throws ReadOnlySqlError when the SQL is anything but read-only queries over `tables` (and its own CTEs).
 * A statement DuckDB cannot parse passes, so that running it reports DuckDB's own syntax error.
 */
export async function checkReadOnly(
  connection: DuckDBConnection,
  sql: string,
  tables: readonly string[],
): Promise<void> {
  const refuse = (what: string) =>
    new ReadOnlySqlError(
      `${what}: lake query runs read-only SQL over the lake's tables (${tables.join(', ')}) and nothing else`,
    );
  const reader = await connection.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})`);
  const parsed = JSON.parse(String(reader.getRows()[0]![0])) as {
    error: boolean;
    error_type?: string;
    error_message?: string;
    statements?: unknown[];
  };
  if (parsed.error) {
    if (parsed.error_type === 'parser') return;
    const keyword = firstKeywords(sql).find((word) => WRITE_OR_ADMIN.has(word));
    throw refuse(keyword ? `${keyword} is not allowed` : 'only SELECT queries are allowed');
  }
  const known = new Set(tables.map((t) => t.toLowerCase()));
  walk(parsed.statements, (node) => {
    if (node.type === 'TABLE_FUNCTION') {
      const fn =
        (node.function as { function_name?: string } | undefined)?.function_name?.toLowerCase() ?? '?';
      if (!SAFE_TABLE_FUNCTIONS.has(fn)) throw refuse(`the table function ${fn}() is not allowed`);
    }
    if (node.type === 'SELECT_NODE') {
      const ctes = (node.cte_map as { map?: { key: string }[] } | undefined)?.map ?? [];
      for (const cte of ctes) known.add(cte.key.toLowerCase());
    }
  });
  walk(parsed.statements, (node) => {
    if (node.type !== 'BASE_TABLE') return;
    const schema = String(node.schema_name ?? '').toLowerCase();
    const name = String(node.table_name ?? '');
    if (CATALOG_SCHEMAS.has(schema)) return;
    if ((schema === '' || schema === 'main') && known.has(name.toLowerCase())) return;
    throw refuse(
      /[./\\:]/.test(name)
        ? `reading the file or URL ${JSON.stringify(name)} is not allowed`
        : `there is no table ${JSON.stringify(schema ? `${schema}.${name}` : name)}`,
    );
  });
}

/** The engine layer: no file or network access outside `allowedDirectory`, and no way to switch it back on. */
export async function lockDown(connection: DuckDBConnection, allowedDirectory: string): Promise<void> {
  await connection.run(`SET allowed_directories = [${sqlString(allowedDirectory)}]`);
  await connection.run('SET enable_external_access = false');
  await connection.run('SET autoinstall_known_extensions = false');
  await connection.run('SET autoload_known_extensions = false');
  await connection.run('SET lock_configuration = true');
}

/** The first word of each statement, upper-cased, comments and string literals skipped. */
function firstKeywords(sql: string): string[] {
  const stripped = sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''");
  return stripped
    .split(';')
    .map(
      (statement) =>
        statement
          .trim()
          .split(/[\s(]+/)[0]
          ?.toUpperCase() ?? '',
    )
    .filter((word) => word !== '');
}

function walk(value: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
  } else if (value !== null && typeof value === 'object') {
    visit(value as Record<string, unknown>);
    for (const child of Object.values(value)) walk(child, visit);
  }
}
