/**
 * Every verb and sub-command of `observatory` parses strictly: an unknown flag, a missing or bad value, or an
 * unexpected argument exits 2 with a message naming it and the usage; `--help` exits 0; an error no command
 * expected prints one line, not a stack trace, and exits 1. The cases run in-process through `run` (what
 * `cli/bin.js` calls); a few run as users run it, `node cli/bin.js …`. The top-level usage is derived from the table
 * of verbs in cli/main.ts: each verb's lines once, and every `cli/<verb>/command.ts` in the table.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run, USAGE, VERBS } from '../../cli/main.ts';
import { summaryOf } from '../../cli/verb.ts';
import { REPO_ROOT } from '../../common/paths.ts';

interface Run {
  code: number | null;
  out: string;
  err: string;
}

// Pointed at ports nothing listens on: a usage error must come before any connection attempt.
const ENV = { OBSERVATORY_JAEGER_URL: 'http://127.0.0.1:9', OBSERVATORY_S3_ENDPOINT: 'http://127.0.0.1:9' };

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** Runs the command line in-process, capturing what it writes. */
async function inProcess(args: string[]): Promise<Run> {
  for (const [name, value] of Object.entries(ENV)) vi.stubEnv(name, value);
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  const code = await run(args);
  vi.restoreAllMocks();
  return { code, out, err };
}

/** Runs `node cli/bin.js …` as a user would. */
function observatory(args: string[], nodeArgs: string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, 'cli/bin.js', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out, err }));
  });
}

const USAGE_ERRORS: [string, string[], string][] = [
  ['an unknown command', ['serve'], 'unknown command "serve"'],
  ['demo with an unknown flag', ['demo', '--jsno'], "Unknown option '--jsno'"],
  ['demo --duration without a value', ['demo', '--duration'], "'--duration <value>' argument missing"],
  ['demo --duration 0', ['demo', '--duration', '0'], '--duration takes a number of at least 1'],
  ['demo --rate that is not a number', ['demo', '--rate', 'fast'], '--rate takes a number'],
  ['demo with an argument', ['demo', 'now'], "Unexpected argument 'now'"],
  ['load with an unknown flag', ['load', '--rps', '5'], "Unknown option '--rps'"],
  ['load --rate without a value', ['load', '--rate'], "'--rate <value>' argument missing"],
  ['load --mix with an unknown kind', ['load', '--mix', 'browse=1'], '--mix: "browse=1" is not kind=weight'],
  ['load --fault-rate above 1', ['load', '--fault-rate', '2'], '--fault-rate takes a share between 0 and 1'],
  [
    'load --max-5xx above 100',
    ['load', '--max-5xx', '101'],
    '--max-5xx takes a percentage between 0 and 100',
  ],
  [
    'load --url that is not http',
    ['load', '--url', 'ftp://gateway'],
    "--url takes the gateway's http(s) URL",
  ],
  ['stack without a sub-command', ['stack'], 'stack needs a sub-command'],
  ['an unknown stack sub-command', ['stack', 'restart'], 'unknown stack sub-command "restart"'],
  ['stack status with a typo', ['stack', 'status', '--jsno'], "Unknown option '--jsno'"],
  ['stack up with an unknown component', ['stack', 'up', 'grafana'], 'unknown component "grafana"'],
  ['stack build with a flag', ['stack', 'build', '--force'], "Unknown option '--force'"],
  ['stack down with an unknown component', ['stack', 'down', 'now'], 'unknown component "now"'],
  ['stack logs -n without a value', ['stack', 'logs', '-n'], "'--n <value>' argument missing"],
  ['stack logs -n 0', ['stack', 'logs', '-n', '0'], '-n takes a positive whole number'],
  ['stack logs of an unknown component', ['stack', 'logs', 'grafana'], 'unknown component "grafana"'],
  ['lake without a sub-command', ['lake'], 'lake needs a sub-command'],
  ['an unknown lake sub-command', ['lake', 'vacuum'], 'unknown lake sub-command "vacuum"'],
  ['lake compact with a typo', ['lake', 'compact', '--jsno'], 'compact does not take --jsno'],
  ['lake compact with an argument', ['lake', 'compact', 'all'], 'compact takes no arguments'],
  ['lake query without SQL', ['lake', 'query', '--json'], 'query needs the SQL as one argument'],
  [
    'lake query with two arguments',
    ['lake', 'query', 'SELECT', '1'],
    'query takes the SQL as one quoted argument',
  ],
  ['trace without an ID', ['trace'], 'trace needs a trace ID'],
  ['trace with a typo', ['trace', '--jsno'], "Unknown option '--jsno'"],
  ['trace --wait without a value', ['trace', 'a'.repeat(32), '--wait'], "'--wait <value>' argument missing"],
  [
    'trace --wait that is not a number',
    ['trace', 'a'.repeat(32), '--wait', 'soon'],
    '--wait takes a whole number',
  ],
  ['trace with two IDs', ['trace', 'a'.repeat(32), 'b'.repeat(32)], 'trace takes one trace ID, got 2'],
  ['trace --last with an ID', ['trace', '--last', 'a'.repeat(32)], '--last takes no trace ID'],
  [
    'trace --service without --last',
    ['trace', 'a'.repeat(32), '--service', 'gateway'],
    '--service goes with --last',
  ],
  ['trace --last --wait', ['trace', '--last', '--wait', '3'], '--wait is for one trace, not --last'],
  ['trace --last --tag without =', ['trace', '--last', '--tag', 'user.id'], '--tag takes key=value'],
  [
    'trace --last --limit 0',
    ['trace', '--last', '--limit', '0'],
    '--limit takes a whole number of at least 1',
  ],
  ['trace with a malformed ID', ['trace', 'abc123'], 'is not a trace ID'],
];

describe('observatory, used wrongly', () => {
  it.each(USAGE_ERRORS)('exits 2 naming the problem, for %s', async (_, args, message) => {
    const result = await inProcess(args);
    expect(result.code, result.err).toBe(2);
    expect(result.err).toContain(message);
    // The usage follows the message, except for a malformed trace ID, which says what an ID looks like.
    if (!args.includes('abc123')) expect(result.err).toMatch(/usage: observatory/);
    expect(result.err).not.toMatch(/^\s+at /m);
    expect(result.out).toBe('');
  });

  it('exits 2 with the usage when no command is given', async () => {
    const result = await inProcess([]);
    expect(result.code).toBe(2);
    expect(result.out).toMatch(/^usage: observatory <command>/);
  });

  it.each([
    [['--help']],
    [['demo', '--help']],
    [['stack', '-h']],
    [['lake', '--help']],
    [['trace', '--help']],
    [['ui', '--help']],
  ])('prints the usage and exits 0 for %j', async (args) => {
    const result = await inProcess(args);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/usage: observatory/);
  });
});

/** The verb a top-level usage line starts (two spaces, then the verb), or undefined for a continuation line. */
const verbOfLine = (line: string) => /^  (\S+)/.exec(line)?.[1];

describe('The top-level usage', () => {
  it('names every verb exactly once: its own command lines, each once, and no line of a verb not in the table', async () => {
    const lines = USAGE.split('\n');
    for (const verb of VERBS) {
      const own = summaryOf(verb)
        .split('\n')
        .filter((line) => verbOfLine(line) === verb.name);
      expect(own.length, verb.name).toBeGreaterThan(0);
      expect(
        lines.filter((line) => verbOfLine(line) === verb.name),
        verb.name,
      ).toEqual(own);
    }
    const named = new Set(lines.map(verbOfLine).filter((name) => name !== undefined));
    expect([...named]).toEqual(VERBS.map((verb) => verb.name));
    expect((await inProcess(['--help'])).out).toBe(USAGE);
  });

  it('lists every verb folder (cli/<verb>/command.ts) in the table, under its folder name', () => {
    const folders = readdirSync(join(REPO_ROOT, 'cli'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(REPO_ROOT, 'cli', entry.name, 'command.ts')))
      .map((entry) => entry.name);
    expect(VERBS.map((verb) => verb.name).sort()).toEqual(folders.sort());
  });

  it("prints a verb's own usage for --help when the verb has one", async () => {
    for (const verb of VERBS.filter((v) => v.ownHelp)) {
      const result = await inProcess([verb.name, '--help']);
      expect(result.code, verb.name).toBe(0);
      expect(result.out, verb.name).toBe(verb.usage);
    }
  });
});

describe('node cli/bin.js, as users run it', () => {
  it('exits 2 with the message and the usage for an unknown flag', async () => {
    const result = await observatory(['stack', 'status', '--jsno']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^observatory: Unknown option '--jsno'.*\n\nusage: observatory <command>/s);
  });

  it('prints one line, not a stack trace, and exits 1 when a command fails unexpectedly', async () => {
    const result = await observatory(
      ['demo', '--duration', '5'],
      ['--import', './test/cli/fixtures/failing-demo.mjs'],
    );
    expect(result.code).toBe(1);
    expect(result.err).toBe('observatory: the disk is on fire\n');
  });
});
