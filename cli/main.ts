/**
 * The `observatory` command line: one entry, one verb per folder (`cli/<verb>/command.ts`). This file only routes
 * and prints usage; each verb parses its own options strictly.
 */
import { UsageError } from '../common/errors.ts';
import { DEMO_USAGE, demoCommand } from './demo/command.ts';
import { LAKE_USAGE, lakeCommand } from './lake/command.ts';
import { LOAD_USAGE, loadCommand } from './load/command.ts';
import { NEW_USAGE, newCommand } from './new/command.ts';
import { STACK_USAGE, stackCommand } from './stack/command.ts';
import { StackError } from '../stack/errors.ts';
import { TRACE_USAGE, traceCommand } from './trace/command.ts';
import { UI_USAGE, uiCommand } from './ui/command.ts';

const VERBS: Record<string, (args: string[]) => Promise<number>> = {
  demo: demoCommand,
  load: loadCommand,
  new: newCommand,
  stack: stackCommand,
  lake: lakeCommand,
  trace: traceCommand,
  ui: uiCommand,
};

/** The command lines of a verb's own usage text, with their indented continuation lines. */
function usageLines(usage: string, prefix: string): string {
  const lines = usage.split('\n');
  const start = lines.findIndex((line) => line.startsWith(prefix));
  const end = lines.findIndex((line, i) => i > start && line.trim() === '');
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

const USAGE = `usage: observatory <command>

${DEMO_USAGE}
${LOAD_USAGE}
${NEW_USAGE}
${STACK_USAGE}
${usageLines(LAKE_USAGE, '  lake')}
${usageLines(TRACE_USAGE, '  trace')}
${usageLines(UI_USAGE, '  ui')}
${usageLines(UI_USAGE, '  ui')}
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const verb = VERBS[command];
  if (!verb) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  // lake and trace print their own, longer usage.
  if ((args[0] === '--help' || args[0] === '-h') && command !== 'lake' && command !== 'trace') {
    process.stdout.write(USAGE);
    return 0;
  }
  return verb(args);
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
