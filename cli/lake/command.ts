/**
 * `observatory lake compact [--json]` and `observatory lake query "<SQL>" [--json]`.
 * Usage errors print what was wrong and the usage, exit 2; a failed query or compaction prints the error, exit 1.
 */
import { compactAll } from '../../lake/compact.ts';
import { formatJson, formatTable } from '../../lake/format.ts';
import { queryLake } from '../../lake/query.ts';
import { parseOptions } from '../args.ts';

export const LAKE_USAGE = `usage: observatory lake <command>

  lake compact [--json]          compact every raw event object not compacted yet into curated Parquet,
                                 in batches of OBSERVATORY_LAKE_COMPACT_BATCH (25) objects
  lake query "<SQL>" [--json]    run SQL over the views events and rejected (DuckDB), print a table or JSON
`;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export async function lakeCommand(args: string[], io: Io = processIo): Promise<number> {
  const [sub, ...rest] = args;
  const usage = (message: string) => {
    io.err(`observatory lake: ${message}\n\n${LAKE_USAGE}`);
    return 2;
  };
  if (sub === '--help' || sub === '-h') {
    io.out(LAKE_USAGE);
    return 0;
  }
  let json: boolean;
  let positional: string[];
  try {
    // Strict, as every verb: an unknown flag or a missing value is a usage error (cli/args.ts).
    const parsed = parseOptions(rest, [], ['json'], true);
    json = parsed.values.json === true;
    positional = parsed.positionals;
  } catch (error) {
    const unknown = /Unknown option '([^']+)'/.exec((error as Error).message)?.[1];
    return usage(unknown ? `${sub} does not take ${unknown}` : `${sub}: ${(error as Error).message}`);
  }
  try {
    switch (sub) {
      case undefined:
        return usage('lake needs a sub-command (compact or query)');
      case 'compact': {
        if (positional.length > 0)
          return usage(`compact takes no arguments, got ${JSON.stringify(positional[0])}`);
        const result = await compactAll();
        if (json) io.out(`${JSON.stringify(result, null, 2)}\n`);
        else {
          io.out(
            `compacted ${result.objects} raw objects in ${result.batches} batches (${result.skipped} already done): ${result.records} records → ` +
              `${result.events} event rows, ${result.rejected} rejected rows, ${result.duplicates} duplicates left out, ` +
              `${result.files.length} Parquet files\n`,
          );
        }
        return 0;
      }
      case 'query': {
        if (positional.length === 0 || positional[0]!.trim() === '') {
          return usage(
            'query needs the SQL as one argument, e.g. observatory lake query "SELECT count(*) FROM events"',
          );
        }
        if (positional.length > 1) {
          return usage(`query takes the SQL as one quoted argument; got ${positional.length} arguments`);
        }
        const result = await queryLake(positional[0]!);
        io.out(json ? formatJson(result) : formatTable(result));
        return 0;
      }
      default:
        return usage(`unknown lake sub-command ${JSON.stringify(sub)}`);
    }
  } catch (error) {
    io.err(`observatory lake ${sub}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
