/**
 * `observatory stack` as a user drives it: idempotent `up`, a `down` that leaves nothing behind, failures reported by
 * component name, and `status --json` for scripts. Isolated stacks use their own ports and state folder so the
 * shared stack the other tests use is never disturbed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { StackError } from '../../stack/errors.ts';
import { Stack, type StackStatus } from '../../stack/stack.ts';
import { isolatedStack } from '../../stack/isolated-stack.ts';

const run = promisify(execFile);
const quiet = () => {};

/** A stack on its own ports (from `base`) with its own state folder (stack/isolated-stack.ts). */
const isolated = (base: number, settings: Record<string, string> = {}): Stack =>
  isolatedStack('test', base, { settings: () => settings }).stack;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const pids = (status: StackStatus) => status.components.map((c) => c.pid);

describe('observatory stack', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('treats a second `up` as harmless: same processes, still healthy', async () => {
    const stack = new Stack({ say: quiet });
    const before = await stack.status();
    const after = await stack.up();
    expect(after.healthy).toBe(true);
    expect(pids(after)).toEqual(pids(before));
  });

  it('starts a whole isolated stack, then `down` leaves no process of it behind', async () => {
    const stack = isolated(24100);
    cleanups.push(() => stack.down());
    const status = await stack.up();
    expect(status.healthy).toBe(true);
    const started = status.components.map((c) => c.pid!);
    expect(started.every((pid) => isAlive(pid))).toBe(true);

    const stopped = await stack.down();
    expect(stopped.sort()).toEqual(['collector', 'jaeger', 'prometheus', 's3', 'sqs']);
    expect(started.filter((pid) => isAlive(pid))).toEqual([]);
    expect(readdirSync(join(stack.config.stateDir, 'run'))).toEqual([]);
    expect((await stack.status()).components.every((c) => !c.running)).toBe(true);
  });

  it('names the component whose port is taken by a foreign process', async () => {
    const stack = isolated(24200);
    cleanups.push(() => stack.down());
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(stack.config.prometheus.port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => squatter.close(resolve)));

    const failure = await stack.up(['s3', 'prometheus']).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StackError);
    expect((failure as StackError).component).toBe('prometheus');
    expect((failure as StackError).message).toContain(`port ${stack.config.prometheus.port}`);
  });

  it('names the component that exits while starting, with its log file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'observatory-badconfig-'));
    const badConfig = join(dir, 'broken.yaml');
    writeFileSync(badConfig, 'receivers:\n  no_such_receiver: {}\n');
    const stack = isolated(24300, { OBSERVATORY_COLLECTOR_CONFIG: badConfig });
    cleanups.push(() => stack.down());

    const failure = await stack.up().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StackError);
    expect((failure as StackError).component).toBe('collector');
    expect((failure as StackError).message).toContain('exited while starting');
    expect((failure as StackError).message).toContain(stack.logFile('collector'));
    expect(existsSync(join(stack.config.stateDir, 'run', 'collector.pid'))).toBe(false);
  });

  it('prints `status --json` with endpoints, the bucket and the local credentials', async () => {
    const { stdout } = await run(process.execPath, [
      join(REPO_ROOT, 'cli', 'bin.js'),
      'stack',
      'status',
      '--json',
    ]);
    const status = JSON.parse(stdout) as StackStatus;
    expect(status.healthy).toBe(true);
    expect(status.components.map((c) => c.name)).toEqual(['s3', 'sqs', 'jaeger', 'prometheus', 'collector']);
    const collector = status.components.find((c) => c.name === 'collector')!;
    expect(collector.endpoints.otlpHttp).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(collector.pid).toBeGreaterThan(0);
    expect(status.s3).toMatchObject({ bucket: 'observatory', accessKeyId: expect.any(String) });
  });
});
