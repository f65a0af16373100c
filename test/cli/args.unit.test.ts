/** Strict option parsing for the CLI verbs (cli/args.ts): anything unexpected is a UsageError naming it. */
import { describe, expect, it } from 'vitest';
import { numberOption, parseOptions } from '../../cli/args.ts';
import { UsageError } from '../../common/errors.ts';

describe('parseOptions', () => {
  it('parses the named string options and boolean flags', () => {
    expect(parseOptions(['--rate', '5', '--json'], ['rate'], ['json'])).toEqual({
      values: { rate: '5', json: true },
      positionals: [],
    });
  });

  it('rejects an unknown flag with a UsageError naming it', () => {
    expect(() => parseOptions(['--rat', '5'], ['rate'])).toThrow(UsageError);
    expect(() => parseOptions(['--rat', '5'], ['rate'])).toThrow(/--rat/);
  });

  it('rejects a string option without its value', () => {
    expect(() => parseOptions(['--rate'], ['rate'])).toThrow(UsageError);
    expect(() => parseOptions(['--rate'], ['rate'])).toThrow(/--rate/);
  });

  it('rejects positionals unless allowed', () => {
    expect(() => parseOptions(['extra'], ['rate'])).toThrow(UsageError);
    expect(parseOptions(['abc', '--rate', '2'], ['rate'], [], true)).toEqual({
      values: { rate: '2' },
      positionals: ['abc'],
    });
  });
});

describe('numberOption', () => {
  it('returns the number, or the fallback when the option is absent', () => {
    expect(numberOption({ rate: '2.5' }, 'rate', 1, 0)).toBe(2.5);
    expect(numberOption({}, 'rate', 1, 0)).toBe(1);
  });

  it.each([['abc'], [''], ['-1'], ['Infinity']])('rejects %j with a UsageError naming the option', (raw) => {
    expect(() => numberOption({ rate: raw }, 'rate', 1, 0)).toThrow(UsageError);
    expect(() => numberOption({ rate: raw }, 'rate', 1, 0)).toThrow(
      `--rate takes a number of at least 0 (got ${JSON.stringify(raw)})`,
    );
  });

  it('rejects a flag given where a number is expected', () => {
    expect(() => numberOption({ rate: true }, 'rate', 1, 0)).toThrow('(got true)');
  });
});
