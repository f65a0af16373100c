/**
 * `observatory lake compact [--json]` and `observatory lake query "<SQL>" [--json|--csv]`.
 * Usage errors and refused SQL (anything but read-only queries over the lake's tables) print what was wrong, exit 2;
 * a failed query or compaction prints the error, exit 1.
 */
import { compactAll, type CompactOptions, type CompactionResult } from '../../lake/compact.ts';
import { compactInChild } from '../../lake/compact-process.ts';
import { formatCsv, formatJson, formatTable } from '../../lake/format.ts';
import { queryLake, TABLE_NAMES } from '../../lake/query.ts';
import { ReadOnlySqlError } from '../../lake/sql-guard.ts';
import type { Verb } from '../verb.ts';

const LAKE_USAGE = `usage: observatory lake <command>

  lake compact [--json]                 compact every raw object (events, logs, metrics, traces) not compacted yet
                                        into curated Parquet; prints rows in/out and duplicates per signal, and
                                        each object it could not process (filed as failed, with the reason)
  lake query "<SQL>" [--json|--csv]     run read-only SQL (DuckDB) over the tables ${TABLE_NAMES.join(', ')};
                                        prints a table, JSON or CSV. Writes, settings, extensions and reading
                                        files or URLs outside the lake are refused (exit 2)
`;

export const verb: Verb = { name: 'lake', usage: LAKE_USAGE, run: lakeCommand, ownHelp: true };

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const FLAGS = ['--json', '--csv'];

/**
 * `compact` is given the options (a store, a config) by tests, and compacts in this process; the CLI compacts in a
 * child process run as an ETL compaction sandbox is (lake/compact-process.ts), whose memory stays within the lake's
 * bound.
 */
export async function lakeCommand(
  args: string[],
  io: Io = processIo,
  compactOptions: CompactOptions = {},
): Promise<number> {
  const [sub, ...rest] = args;
  const usage = (message: string) => {
    io.err(`observatory lake: ${message}\n\n${LAKE_USAGE}`);
    return 2;
  };
  if (sub === '--help' || sub === '-h') {
    io.out(LAKE_USAGE);
    return 0;
  }
  const json = rest.includes('--json');
  const csv = rest.includes('--csv');
  const positional = rest.filter((arg) => !FLAGS.includes(arg));
  const unknownFlag = positional.find((arg) => arg.startsWith('--'));
  try {
    switch (sub) {
      case undefined:
        return usage('lake needs a sub-command (compact or query)');
      case 'compact': {
        if (unknownFlag || csv) return usage(`compact does not take ${unknownFlag ?? '--csv'}`);
        if (positional.length > 0)
          return usage(`compact takes no arguments, got ${JSON.stringify(positional[0])}`);
        const result =
          Object.keys(compactOptions).length > 0
            ? await compactAll(compactOptions)
            : (await compactInChild()).result;
        io.out(json ? `${JSON.stringify(result, null, 2)}\n` : compactionSummary(result));
        return 0;
      }
      case 'query': {
        if (unknownFlag) return usage(`query does not take ${unknownFlag}`);
        if (json && csv) return usage('query takes --json or --csv, not both');
        if (positional.length === 0 || positional[0]!.trim() === '') {
          return usage(
            'query needs the SQL as one argument, e.g. observatory lake query "SELECT count(*) FROM events"',
          );
        }
        if (positional.length > 1) {
          return usage(`query takes the SQL as one quoted argument; got ${positional.length} arguments`);
        }
        const result = await queryLake(positional[0]!);
        io.out(json ? formatJson(result) : csv ? formatCsv(result) : formatTable(result));
        return 0;
      }
      default:
        return usage(`unknown lake sub-command ${JSON.stringify(sub)}`);
    }
  } catch (error) {
    if (error instanceof ReadOnlySqlError) {
      io.err(`observatory lake query: refused: ${error.message}\n`);
      return 2;
    }
    io.err(`observatory lake ${sub}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function compactionSummary(result: CompactionResult): string {
  const lines = [
    `compacted ${result.objects} raw objects (${result.skipped} already done), ${result.files.length} Parquet files written`,
  ];
  for (const [signal, s] of Object.entries(result.signals)) {
    lines.push(
      `  ${signal.padEnd(8)} ${String(s.objects).padStart(6)} objects  ${String(s.rowsIn).padStart(9)} rows in  ` +
        `${String(s.rowsOut).padStart(9)} rows out  ${String(s.duplicates).padStart(7)} duplicates dropped`,
    );
  }
  lines.push(`  (events: ${result.events} accepted, ${result.rejected} rejected)`);
  if (result.failed.length > 0) {
    lines.push(
      `${result.failed.length} raw ${result.failed.length === 1 ? 'object' : 'objects'} filed as failed (not retried; compacted again only when forced):`,
    );
    // The reason's first line: DuckDB adds hints on the lines after it (the whole reason is in the object's marker).
    for (const failure of result.failed) lines.push(`  ${failure.key}: ${failure.reason.split('\n')[0]}`);
  }
  return `${lines.join('\n')}\n`;
}
