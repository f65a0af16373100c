/** Strict option parsing shared by the verbs: an unknown flag or a missing value is a UsageError (exit 2). */
import { parseArgs } from 'node:util';
import { UsageError } from '../common/errors.ts';

export type OptionValues = Record<string, string | string[] | boolean | undefined>;

export interface MoreOptions {
  /** String options that may be repeated; their value is a list. */
  multiple?: string[];
  /** One-letter aliases: `{ h: 'help' }` accepts `-h` for `--help`. */
  short?: Record<string, string>;
}

/**
 * Parses `args` allowing only the named string options (and boolean `flags`); no positionals unless allowed. An
 * unknown option, a missing value or an unexpected argument is a UsageError naming it.
 */
export function parseOptions(
  args: string[],
  strings: string[],
  flags: string[] = [],
  positionals = false,
  more: MoreOptions = {},
): { values: OptionValues; positionals: string[] } {
  const shortOf = (name: string) => Object.entries(more.short ?? {}).find(([, long]) => long === name)?.[0];
  const option = (name: string, type: 'string' | 'boolean') => {
    const short = shortOf(name);
    return [
      name,
      { type, ...(short ? { short } : {}), ...(more.multiple?.includes(name) ? { multiple: true } : {}) },
    ];
  };
  try {
    const parsed = parseArgs({
      args,
      options: Object.fromEntries([
        ...strings.map((name) => option(name, 'string')),
        ...flags.map((name) => option(name, 'boolean')),
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
