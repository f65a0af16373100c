/** Strict option parsing shared by the verbs: an unknown flag or a missing value is a UsageError (exit 2). */
import { parseArgs } from 'node:util';
import { UsageError } from '../common/errors.ts';

export type OptionValues = Record<string, string | boolean | undefined>;

/** Parses `args` allowing only the named string options (and boolean `flags`); no positionals unless allowed. */
export function parseOptions(
  args: string[],
  strings: string[],
  flags: string[] = [],
  positionals = false,
): { values: OptionValues; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args,
      options: Object.fromEntries([
        ...strings.map((name) => [name, { type: 'string' as const }]),
        ...flags.map((name) => [name, { type: 'boolean' as const }]),
      ]),
      strict: true,
      allowPositionals: positionals,
    });
    return { values: parsed.values as OptionValues, positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A numeric option of at least `min`, or the fallback when absent. */
export function numberOption(values: OptionValues, name: string, fallback: number, min: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || value < min) {
    throw new UsageError(`--${name} takes a number of at least ${min} (got ${JSON.stringify(raw)})`);
  }
  return value;
}
