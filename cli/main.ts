/**
 * The `observatory` command line: one entry, one verb per folder (`cli/<verb>/command.ts` exports its `verb`, see
 * cli/verb.ts). This file only routes, prints the usage derived from the table and maps errors to exit codes; each
 * verb parses its own options strictly.
 */
import { UsageError } from '../common/errors.ts';
import { StackError } from '../stack/errors.ts';
import { summaryOf, type Verb } from './verb.ts';

/**
 * Every verb, in the order the usage lists them: adding a verb is its folder and one line here. The modules load
 * together at start, as static imports would, and each line is type-checked to export a `verb`.
 */
const MODULES = await Promise.all([
  import('./demo/command.ts'),
  import('./load/command.ts'),
  import('./new/command.ts'),
  import('./stack/command.ts'),
  import('./lake/command.ts'),
  import('./schemas/command.ts'),
  import('./trace/command.ts'),
  import('./ui/command.ts'),
]);

export const VERBS: readonly Verb[] = MODULES.map((module) => module.verb);

export const USAGE = `usage: observatory <command>\n\n${VERBS.map(summaryOf).join('\n')}\n`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const verb = VERBS.find((v) => v.name === command);
  if (!verb) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  if ((args[0] === '--help' || args[0] === '-h') && !verb.ownHelp) {
    process.stdout.write(USAGE);
    return 0;
  }
  return verb.run(args);
}

/**
 * Runs one command line and returns its exit code: 2 with the usage for a usage error, 1 with one line (not a stack
 * trace) for any other error. `cli/bin.js` calls it; tests call it in-process.
 */
export async function run(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`observatory: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof StackError) {
      process.stderr.write(`observatory: ${error.message}\n`);
      return 1;
    }
    // One line, not a stack trace: the command's own errors say what went wrong.
    process.stderr.write(`observatory: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
