/**
 * The mask processors (collector-config/maskprocessor, configured in collector-config/base.yaml) run a pattern only
 * on a value that holds one of the literals the pattern `needs`. That is only safe when the literals are exact: no
 * value without any of them may hold a match of the pattern. Checked here on the committed config, with JavaScript's
 * regular expressions (the same as Go's for these ASCII patterns; `\s` is narrowed to Go's five white-space
 * characters and the inputs stay ASCII), over every short string of the characters that matter, over random longer
 * ones built from the patterns' pieces, and on the values the real masking test sends
 * (test/collector-config/pipelines.test.ts masks them end to end through the Collector).
 */
import { describe, expect, it } from 'vitest';
import { collectorRoleFiles, mergedCollectorConfig } from '../../stack/collector-roles.ts';

interface Pattern {
  regex: string;
  needs?: string[];
  ignore_case?: boolean;
}

interface Mask {
  ignored_keys?: string[];
  patterns: Pattern[];
}

const config = mergedCollectorConfig(collectorRoleFiles('local')) as {
  processors: Record<string, Mask>;
  service: { pipelines: Record<string, { processors: string[] }> };
};
const masksOf = (pipeline: string) =>
  config.service.pipelines[pipeline]!.processors.filter((p) => p.split('/')[0] === 'mask');
const spans = config.processors['mask/spans']!;
const logs = config.processors['mask/logs']!;

/** A Go RE2 pattern as a JavaScript RegExp: a leading `(?i)` becomes the flag, `\s` Go's ASCII white space. */
function goRegExp(pattern: string): RegExp {
  const insensitive = pattern.startsWith('(?i)');
  const body = insensitive ? pattern.slice(4) : pattern;
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const next = body[++i]!;
      out += next === 's' ? (inClass ? '\\t\\n\\f\\r ' : '[\\t\\n\\f\\r ]') : `\\${next}`;
    } else {
      if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      out += c;
    }
  }
  return new RegExp(out, insensitive ? 'i' : '');
}

/** Whether the processor would run the pattern on the value (maskprocessor's mayMatch, without its byte-set step). */
function holdsANeed(pattern: Pattern, value: string): boolean {
  if (!pattern.needs?.length) return true;
  const haystack = pattern.ignore_case ? value.toLowerCase() : value;
  return pattern.needs.some((need) => haystack.includes(pattern.ignore_case ? need.toLowerCase() : need));
}

/** A deterministic pseudo-random sequence (mulberry32), so a failure names a value that fails again. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The characters the patterns and their literals turn on, and a few that they do not. */
const ALPHABET = [...'AKSIeyJ@ \t:=/.&?#-_0aBbEeRrtoknK'];

function* allStrings(length: number): Generator<string> {
  if (length === 0) return yield '';
  for (const prefix of allStrings(length - 1)) for (const c of ALPHABET) yield prefix + c;
}

/** Random values glued from the patterns' pieces (whole, cut short, in other cases) and single characters. */
function randomStrings(count: number, next = random(25)): string[] {
  const pieces = [
    'AKIA',
    'ASIA',
    'AKI',
    'eyJ',
    'eyj',
    'bearer ',
    'Bearer\t',
    'BEARER',
    'beare',
    'token=',
    'TOKEN=',
    'token',
    'api_key=',
    'apikey=',
    'Key=',
    'ke=',
    'passwd=',
    'password=',
    'pwd=',
    'secret=',
    'client_secret=',
    'sig=',
    'signature=',
    'session=',
    'sessionid=',
    'code=',
    'auth=',
    'x-amz-credential=',
    'x-amz-security-token=',
    'user:pw@',
    '@example.com',
    'ABCDEFGHIJKLMNOP',
    'abcdefgh.',
    'eyJabcdefgh.ijklmnop.',
    'AKIAABCDEFGHIJKLMNOP',
    'ASIA0123456789ABCDEF',
  ];
  return Array.from({ length: count }, () => {
    let value = '';
    const length = Math.floor(next() * 12);
    for (let i = 0; i < length; i++)
      value +=
        next() < 0.3
          ? pieces[Math.floor(next() * pieces.length)]!
          : ALPHABET[Math.floor(next() * ALPHABET.length)]!;
    return value;
  });
}

/** Values of the masking test and of a demo request: every pattern, and clean values. */
const REAL_VALUES = [
  'https://api.example.org/scenes?token=s3cr3t-full&page=2',
  'page=3&access_token=s3cr3t-query',
  'https://bob:hunter2@api.example.org/scenes?api_key=s3cr3t-legacy',
  'Bearer s3cr3t-bearer.abc',
  'requested by carol@example.com',
  'https://grace:pw@host/x?sig=s3cr3t-sig#top Bearer s3cr3t.bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2ln AKIAABCDEFGHIJKLMNOP',
  '/api/scenes/S2A_20260601_T17/download',
  'bbox=2,48,3,49&limit=20',
  'observatory-load/1.0',
];

describe('The masking of spans and logs', () => {
  it('runs one mask processor in each pipeline, the same patterns in the same order for spans and logs', () => {
    expect(masksOf('traces')).toEqual(['mask/spans']);
    expect(masksOf('logs/events')).toEqual(['mask/logs']);
    expect(masksOf('logs/app')).toEqual(['mask/logs']);
    expect(spans.patterns.length).toBeGreaterThanOrEqual(6);
    expect(logs.patterns).toEqual(spans.patterns);
    expect(logs.ignored_keys ?? []).toEqual([]);
  });

  it('ignores the structural keys of spans and scans the free-text ones', () => {
    const ignored = spans.ignored_keys!;
    expect(ignored).toEqual(expect.arrayContaining(['http.route', 'http.request.method', 'service.name']));
    for (const freeText of [
      'url.full',
      'url.query',
      'url.path',
      'http.url',
      'http.target',
      'http.request.header.authorization',
      'user_agent.original',
      'db.statement',
      'db.query.text',
      'exception.message',
      'exception.stacktrace',
      'process.command_line',
      'user.id',
      'user.email',
    ])
      expect(ignored).not.toContain(freeText);
  });

  const values = [
    ...[0, 1, 2, 3, 4].flatMap((n) => [...allStrings(n)]),
    ...randomStrings(200_000),
    ...REAL_VALUES,
  ];
  for (const [index, pattern] of spans.patterns.entries()) {
    it(
      `pattern ${index + 1} (${pattern.regex.slice(0, 24)}…): every value it matches holds one of its literals`,
      {
        timeout: 120_000,
      },
      () => {
        expect(pattern.needs?.length).toBeGreaterThan(0);
        const regex = goRegExp(pattern.regex);
        let skipped = 0;
        let matched = 0;
        const leaks: string[] = [];
        for (const value of values) {
          const needed = holdsANeed(pattern, value);
          if (!needed) skipped++;
          if (!regex.test(value)) continue;
          matched++;
          if (!needed)
            leaks.push(`${JSON.stringify(value)} matches but holds none of ${pattern.needs!.join(' ')}`);
        }
        expect(leaks.slice(0, 5)).toEqual([]);
        // The test reaches the pattern (values that match), and the literals are worth having (most values skip it).
        expect(matched).toBeGreaterThan(100);
        expect(skipped).toBeGreaterThan(values.length / 2);
      },
    );
  }

  it('masks every secret of the real values with some pattern', () => {
    const secret = REAL_VALUES.filter((value) => spans.patterns.some((p) => goRegExp(p.regex).test(value)));
    for (const value of secret)
      expect(spans.patterns.some((p) => holdsANeed(p, value) && goRegExp(p.regex).test(value))).toBe(true);
    expect(secret.length).toBeGreaterThan(3);
  });
});
