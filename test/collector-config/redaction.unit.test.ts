/**
 * The traces pipeline's redaction is split into processors whose `allowed_values` check lets a value skip the
 * processor's patterns (collector-config/base.yaml). That is only safe when the check is exact: no value it lets pass
 * may hold a match of one of the processor's patterns. Checked here on the committed config, with JavaScript's regular
 * expressions (the same as Go's for these ASCII patterns; `\s` is narrowed to Go's five white-space characters and
 * the inputs stay ASCII), over every short string of the characters that matter and over random longer ones, and
 * on the values the real masking test sends (test/collector-config/pipelines.test.ts masks them end to end).
 */
import { describe, expect, it } from 'vitest';
import { collectorRoleFiles, mergedCollectorConfig } from '../../stack/collector-roles.ts';

interface Redaction {
  allowed_values?: string[];
  blocked_values: string[];
  ignored_keys?: string[];
}

const config = mergedCollectorConfig(collectorRoleFiles('local')) as {
  processors: Record<string, Redaction>;
  service: { pipelines: Record<string, { processors: string[] }> };
};
const traceRedactions = config.service.pipelines.traces!.processors.filter((p) => p.startsWith('redaction'));

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

/** The characters the patterns and the checks turn on, and a few that they do not. */
const ALPHABET = [...'AKSIeyJ@ \t:=/.&?#-_0aBbEeRrtokn'];

function* allStrings(length: number): Generator<string> {
  if (length === 0) return yield '';
  for (const prefix of allStrings(length - 1)) for (const c of ALPHABET) yield prefix + c;
}

function randomStrings(count: number, next = random(25)): string[] {
  const pieces = [
    'AKIA',
    'ASIA',
    'eyJ',
    'bearer ',
    'Bearer\t',
    'token=',
    'user:pw@',
    '@example.com',
    'ABCDEFGHIJKLMNOP',
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

describe('The redaction of spans', () => {
  it('runs every pattern of the logs’ redaction, in the same order, over processors with an exact check each', () => {
    expect(traceRedactions.length).toBeGreaterThan(1);
    const patterns = traceRedactions.flatMap((name) => config.processors[name]!.blocked_values);
    expect(patterns).toEqual(config.processors['redaction/logs']!.blocked_values);
    for (const name of traceRedactions) expect(config.processors[name]!.allowed_values).toHaveLength(1);
  });

  it('ignores the same structural keys in every processor and scans the free-text ones', () => {
    const ignored = config.processors[traceRedactions[0]!]!.ignored_keys!;
    for (const name of traceRedactions) expect(config.processors[name]!.ignored_keys).toEqual(ignored);
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

  for (const name of traceRedactions) {
    it(`${name}: no value its check lets pass holds a match of its patterns`, { timeout: 120_000 }, () => {
      const { allowed_values, blocked_values } = config.processors[name]!;
      const check = goRegExp(allowed_values![0]!);
      const patterns = blocked_values.map(goRegExp);
      const values = [
        ...[0, 1, 2, 3, 4].flatMap((n) => [...allStrings(n)]),
        ...randomStrings(200_000),
        ...REAL_VALUES,
      ];
      let passed = 0;
      const leaks: string[] = [];
      for (const value of values) {
        if (!check.test(value)) continue;
        passed++;
        const matching = patterns.find((pattern) => pattern.test(value));
        if (matching) leaks.push(`${JSON.stringify(value)} passes the check but matches ${matching}`);
      }
      expect(leaks.slice(0, 5)).toEqual([]);
      // The check is worth having: most clean values pass it.
      expect(passed).toBeGreaterThan(1000);
      for (const value of REAL_VALUES)
        if (patterns.some((pattern) => pattern.test(value))) expect(check.test(value)).toBe(false);
    });
  }
});
