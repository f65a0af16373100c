/**
 * A build step as a newcomer watches it: it says what it starts, then keeps saying how long it has run and what it
 * is doing (the step's latest output line) until it says it is done; a failed step names its log's last lines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lastActivity, runStep } from '../../stack/build.ts';
import { StackError } from '../../stack/errors.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function cache(): string {
  const dir = mkdtempSync(join(tmpdir(), 'observatory-build-progress-'));
  dirs.push(dir);
  return dir;
}

describe('a build step', () => {
  it('prints progress lines with the elapsed time and its latest output while it runs, then done', async () => {
    const said: string[] = [];
    // A step that prints as go build -v does and runs for several progress intervals.
    const script = 'for p in a/b c/d e/f; do echo "example.com/$p" >&2; sleep 0.2; done';
    await runStep(
      { cacheDir: cache() },
      (line) => said.push(line),
      'jaeger',
      'go build',
      'sh',
      ['-c', script],
      {
        cwd: tmpdir(),
        progressMs: 50,
      },
    );
    expect(said[0]).toBe('jaeger: go build');
    const progress = said.slice(1, -1);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    for (const line of progress)
      expect(line).toMatch(/^jaeger: go build … \d+s( \(example\.com\/[a-z]\/[a-z]\))?$/);
    expect(progress.some((line) => line.endsWith('(example.com/c/d)'))).toBe(true);
    expect(said.at(-1)).toMatch(/^jaeger: go build done in \d+s$/);
  });

  it('fails with a StackError naming the component and the last lines of its log', async () => {
    const failure = await runStep(
      { cacheDir: cache() },
      () => {},
      's3',
      'go install',
      'sh',
      ['-c', 'echo "no such module" >&2; exit 3'],
      {
        cwd: tmpdir(),
      },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StackError);
    expect((failure as StackError).component).toBe('s3');
    expect((failure as StackError).message).toMatch(/go install failed \(exit 3\)/);
    expect((failure as StackError).message).toContain('no such module');
  });
});

describe('lastActivity', () => {
  it('reads an ocb log line as its message and any other line as itself, shortened', () => {
    expect(
      lastActivity(
        '2026-12-04T21:30:01.123Z\tINFO\tinternal/command.go:85\tCompiling\t{"binary": "otelcol-observatory"}\n',
      ),
    ).toBe('Compiling');
    expect(lastActivity('github.com/dgraph-io/badger/v4\n\n')).toBe('github.com/dgraph-io/badger/v4');
    expect(lastActivity('\n')).toBeUndefined();
    expect(lastActivity('[INFO] Copying jar\n\x1b[0m\n')).toBe('[INFO] Copying jar');
    const long = `x${'y'.repeat(200)}`;
    expect(lastActivity(long)).toHaveLength(100);
  });
});
