/**
 * The environment readers (common/env.ts): empty means unset; a bad value is reported once per process, naming the
 * variable, the value and the fallback, and replaced by the default instead of failing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  readBoolean,
  readInteger,
  readList,
  readNumber,
  readPort,
  readString,
  warnOnce,
} from '../../common/env.ts';

/** Captures what the default sink writes to stderr. */
function stderr(): string[] {
  const written: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  return written;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('The environment readers', () => {
  it('treat an empty or blank value as unset, and trim the rest', () => {
    expect(readString({ A: '' }, 'A')).toBeUndefined();
    expect(readString({ A: '   ' }, 'A')).toBeUndefined();
    expect(readString({}, 'A')).toBeUndefined();
    expect(readString({ A: ' x ' }, 'A')).toBe('x');
    expect(readInteger({ N: '' }, 'N', 7)).toBe(7);
  });

  it('read integers within bounds, and fall back with a warning naming variable, value and fallback', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    expect(readInteger({ N: '42' }, 'N', 1, { min: 0, max: 100 }, warn)).toBe(42);
    expect(readInteger({ N: '-3' }, 'N', 1, {}, warn)).toBe(-3);
    expect(readInteger({ N: '1.5' }, 'N', 1, {}, warn)).toBe(1);
    expect(readInteger({ N: '101' }, 'N', 1, { min: 0, max: 100 }, warn)).toBe(1);
    expect(readInteger({ N: '12abc' }, 'N', 1, {}, warn)).toBe(1);
    expect(warnings).toEqual([
      'N="1.5" is not an integer in [-9007199254740991, 9007199254740991]; using 1',
      'N="101" is not an integer in [0, 100]; using 1',
      'N="12abc" is not an integer in [-9007199254740991, 9007199254740991]; using 1',
    ]);
  });

  it('read ports from 1 to 65535', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    expect(readPort({ P: '8080' }, 'P', 9000, warn)).toBe(8080);
    expect(readPort({ P: '0' }, 'P', 9000, warn)).toBe(9000);
    expect(readPort({ P: '65536' }, 'P', 9000, warn)).toBe(9000);
    expect(warnings).toEqual([
      'P="0" is not an integer in [1, 65535]; using 9000',
      'P="65536" is not an integer in [1, 65535]; using 9000',
    ]);
  });

  it('read finite numbers within bounds', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    expect(readNumber({ X: '0.25' }, 'X', 1, { min: 0 }, warn)).toBe(0.25);
    expect(readNumber({ X: 'Infinity' }, 'X', 1, {}, warn)).toBe(1);
    expect(readNumber({ X: '-1' }, 'X', 1, { min: 0 }, warn)).toBe(1);
    expect(warnings).toEqual([
      'X="Infinity" is not a number in [-Infinity, Infinity]; using 1',
      'X="-1" is not a number in [0, Infinity]; using 1',
    ]);
  });

  it('read booleans as true or false in any case, nothing else', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    expect(readBoolean({ B: 'TRUE' }, 'B', false, warn)).toBe(true);
    expect(readBoolean({ B: 'false' }, 'B', true, warn)).toBe(false);
    expect(readBoolean({ B: 'yes' }, 'B', false, warn)).toBe(false);
    expect(warnings).toEqual(['B="yes" is not true or false; using false']);
  });

  it('read comma-separated lists, dropping empty entries', () => {
    expect(readList({ L: ' a, b,,c ,' }, 'L', ['x'])).toEqual(['a', 'b', 'c']);
    expect(readList({}, 'L', ['x'])).toEqual(['x']);
  });

  it('warn on stderr once per distinct message by default, naming the variable', () => {
    const written = stderr();
    const env = { OBSERVATORY_UNIT_TEST_PORT: 'eighty' };
    expect(readPort(env, 'OBSERVATORY_UNIT_TEST_PORT', 80)).toBe(80);
    expect(readPort(env, 'OBSERVATORY_UNIT_TEST_PORT', 80)).toBe(80);
    expect(readInteger(env, 'OBSERVATORY_UNIT_TEST_PORT', 80, { min: 1, max: 65535 })).toBe(80);
    expect(written).toEqual([
      'observatory: OBSERVATORY_UNIT_TEST_PORT="eighty" is not an integer in [1, 65535]; using 80\n',
    ]);
    warnOnce('another message');
    warnOnce('another message');
    expect(written).toHaveLength(2);
  });
});
