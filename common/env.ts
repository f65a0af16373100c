/**
 * Environment readers shared by every config module. They follow the OpenTelemetry SDK's rules: an empty value is
 * unset, and a value that cannot be used is reported (naming the variable, the value and the fallback) and replaced
 * by the default instead of failing the program.
 */

export type Env = Record<string, string | undefined>;
export type Warn = (message: string) => void;

const said = new Set<string>();

/**
 * The default warning sink: stderr, each distinct message once per process — config modules are read by several
 * parts, and one bad variable should be reported once, not once per reader.
 */
export const warnOnce: Warn = (message) => {
  if (said.has(message)) return;
  said.add(message);
  process.stderr.write(`observatory: ${message}\n`);
};

const defaultWarn: Warn = warnOnce;

/** The trimmed value, or undefined when the variable is unset or empty. */
export function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function readInteger(
  env: Env,
  name: string,
  fallback: number,
  bounds: { min?: number; max?: number } = {},
  warn: Warn = defaultWarn,
): number {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = bounds;
  return readBounded(
    env,
    name,
    fallback,
    { min, max, kind: 'an integer', valid: (raw) => /^-?\d+$/.test(raw) },
    warn,
  );
}

export function readPort(env: Env, name: string, fallback: number, warn: Warn = defaultWarn): number {
  return readInteger(env, name, fallback, { min: 1, max: 65535 }, warn);
}

export function readNumber(
  env: Env,
  name: string,
  fallback: number,
  bounds: { min?: number; max?: number } = {},
  warn: Warn = defaultWarn,
): number {
  const { min = -Infinity, max = Infinity } = bounds;
  return readBounded(
    env,
    name,
    fallback,
    { min, max, kind: 'a number', valid: (raw) => Number.isFinite(Number(raw)) },
    warn,
  );
}

/** A number within [min, max] that `valid` accepts; anything else warns with the variable, value and fallback. */
function readBounded(
  env: Env,
  name: string,
  fallback: number,
  rule: { min: number; max: number; kind: string; valid: (raw: string) => boolean },
  warn: Warn,
): number {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!rule.valid(raw) || value < rule.min || value > rule.max) {
    warn(
      `${name}=${JSON.stringify(raw)} is not ${rule.kind} in [${rule.min}, ${rule.max}]; using ${fallback}`,
    );
    return fallback;
  }
  return value;
}

export function readBoolean(env: Env, name: string, fallback: boolean, warn: Warn = defaultWarn): boolean {
  const raw = readString(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  warn(`${name}=${JSON.stringify(raw)} is not true or false; using ${fallback}`);
  return fallback;
}

/** A comma-separated list; empty entries are dropped. */
export function readList(env: Env, name: string, fallback: string[]): string[] {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** One of `choices`; anything else warns with the variable, value and fallback. */
export function readChoice<T extends string>(
  env: Env,
  name: string,
  choices: readonly T[],
  fallback: T,
  warn: Warn = defaultWarn,
): T {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  warn(`${name}=${JSON.stringify(raw)} is not one of ${choices.join(', ')}; using ${fallback}`);
  return fallback;
}
