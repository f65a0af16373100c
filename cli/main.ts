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
import { StackError } from './stack/errors.ts';
import { TRACE_USAGE, traceCommand } from './trace/command.ts';

const VERBS: Record<string, (args: string[]) => Promise<number>> = {
  demo: demoCommand,
  load: loadCommand,
  new: newCommand,
  stack: stackCommand,
  lake: lakeCommand,
  trace: traceCommand,
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
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const verb = VERBS[command];
  if (!verb) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  return verb(args);
}

// `observatory … | head` closes the pipe early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`observatory: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (error instanceof StackError) {
    process.stderr.write(`observatory: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    // One line, not a stack trace: the command's own errors say what went wrong.
    process.stderr.write(`observatory: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
