/**
 * What one verb folder exports (`cli/<verb>/command.ts`): everything cli/main.ts needs to route to it and to print
 * its lines in the top-level usage, so that adding a verb is its folder plus one line in main.ts's table.
 */

export interface Verb {
  /** The word after `observatory`. */
  name: string;
  /**
   * Its usage text. Its command lines — the first line that starts with `  <name>` up to the next blank line — are
   * the verb's summary in the top-level usage; a verb with `ownHelp` prints the whole text for `--help`.
   */
  usage: string;
  /** Runs the verb on the arguments after its name; resolves to the exit code. */
  run: (args: string[]) => Promise<number>;
  /**
   * Whether `run` answers `--help` itself (with its longer usage). When false, `observatory <verb> --help` prints
   * the top-level usage.
   */
  ownHelp: boolean;
}

/** The verb's command lines, with their indented continuation lines: what the top-level usage shows of it. */
export function summaryOf(verb: Verb): string {
  const lines = verb.usage.split('\n');
  const start = lines.findIndex((line) => line === `  ${verb.name}` || line.startsWith(`  ${verb.name} `));
  if (start < 0) throw new Error(`the usage of ${verb.name} has no line starting with "  ${verb.name}"`);
  const end = lines.findIndex((line, i) => i > start && line.trim() === '');
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}
