/**
 * The local fleet runner: Lambda-style sandboxes as processes, one pool per function. A free warm sandbox takes the
 * next invocation; otherwise a new one starts (a cold start) while the concurrency limit allows; otherwise the
 * invocation waits, in a queue of at most `maxWaiting` (beyond it an invocation fails at once with FleetFull: the
 * listener refuses jobs that would not fit, so this is the last guard). The per-invocation timeout kills the sandbox, like Lambda; a sandbox that dies mid-invocation
 * fails that invocation; idle sandboxes are reaped.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from '../../common/paths.ts';
import { SANDBOX_INSTRUMENTATIONS, type EtlConfig } from '../config.ts';
import type { FunctionName } from '../types.ts';
import type { ChunkEvent, InvocationResult } from '../types.ts';
import { sandboxFiles, type SandboxFiles } from './sandbox-build.ts';

interface Sandbox {
  child: ChildProcess;
  busy: boolean;
  idleTimer?: NodeJS.Timeout;
}

export interface FleetStats {
  running: number;
  warm: number;
  waiting: number;
}

export class SandboxFailure extends Error {
  readonly billedMs: number;
  constructor(message: string, billedMs: number) {
    super(message);
    this.name = 'SandboxFailure';
    this.billedMs = billedMs;
  }
}

export class FleetFull extends SandboxFailure {
  constructor(message: string) {
    super(message, 0);
    this.name = 'FleetFull';
  }
}

/**
 * Starts one sandbox process of `functionName` as the fleet does (benchmarks start theirs the same way): the worker
 * under the preload, both built to JavaScript (sandbox-build.ts), with the worker's instrumentations
 * (SANDBOX_INSTRUMENTATIONS, unless the environment names its own) and a Lambda-sized heap — V8 would size it by this
 * machine's memory (etl/config.ts says what each limit saves). It says `{type: 'ready'}` over IPC once its handler is
 * loaded.
 */
export function forkSandbox(
  functionName: FunctionName,
  config: EtlConfig,
  env: Record<string, string | undefined>,
  files: SandboxFiles,
): ChildProcess {
  return fork(files.worker, [], {
    cwd: REPO_ROOT,
    execArgv: [
      `--max-semi-space-size=${config.semiSpaceMb}`,
      `--max-old-space-size=${config.memoryMb}`,
      '--require',
      files.preload,
    ],
    env: {
      OTEL_NODE_ENABLED_INSTRUMENTATIONS: SANDBOX_INSTRUMENTATIONS.join(','),
      ...env,
      OBSERVATORY_ETL_FUNCTION: functionName,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export class Fleet {
  private readonly config: EtlConfig;
  private readonly functionName: FunctionName;
  private readonly env: Record<string, string | undefined>;
  /** What its sandboxes run: built once, as the fleet is made, so that the first cold start does not wait for it. */
  private readonly files: Promise<SandboxFiles>;
  private readonly sandboxes = new Set<Sandbox>();
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(functionName: FunctionName, config: EtlConfig, env: Record<string, string | undefined>) {
    this.functionName = functionName;
    this.config = config;
    this.env = env;
    this.files = sandboxFiles();
  }

  stats(): FleetStats {
    const busy = [...this.sandboxes].filter((s) => s.busy).length;
    return { running: busy, warm: this.sandboxes.size - busy, waiting: this.waiting.length };
  }

  /** The process ids of the live sandboxes (benchmarks read their CPU time and memory from /proc). */
  pids(): number[] {
    return [...this.sandboxes].flatMap((s) => (s.child.pid === undefined ? [] : [s.child.pid]));
  }

  /** How many more invocations fit: free or startable sandboxes plus free places in the waiting queue. */
  room(): number {
    const busy = [...this.sandboxes].filter((s) => s.busy).length;
    return this.config.concurrency - busy + this.config.maxWaiting - this.waiting.length;
  }

  /** Runs one invocation; resolves with the handler's outcome, rejects with SandboxFailure on timeout or crash. */
  async invoke(event: ChunkEvent): Promise<InvocationResult> {
    const sandbox = await this.acquire();
    const started = performance.now();
    try {
      return await new Promise<InvocationResult>((resolve, reject) => {
        const onMessage = (message: { type: string; result?: InvocationResult }) => {
          if (message.type !== 'result') return;
          cleanup();
          resolve(message.result!);
        };
        const onExit = (code: number | null, signal: string | null) => {
          cleanup();
          reject(new SandboxFailure(`sandbox exited mid-invocation (${signal ?? `code ${code}`})`, billed()));
        };
        const timer = setTimeout(() => {
          cleanup();
          sandbox.child.kill('SIGKILL');
          reject(new SandboxFailure(`invocation timed out after ${this.config.timeoutMs} ms`, billed()));
        }, this.config.timeoutMs);
        const billed = () => Math.ceil(performance.now() - started);
        const cleanup = () => {
          clearTimeout(timer);
          sandbox.child.off('message', onMessage);
          sandbox.child.off('exit', onExit);
        };
        sandbox.child.on('message', onMessage);
        sandbox.child.once('exit', onExit);
        // With a callback, a closed channel fails this invocation instead of crashing the listener.
        sandbox.child.send({ type: 'invoke', event, timeoutMs: this.config.timeoutMs }, (error) => {
          if (!error) return;
          cleanup();
          reject(new SandboxFailure(`sandbox unreachable: ${error.message}`, billed()));
        });
      });
    } finally {
      this.release(sandbox);
    }
  }

  /** Stops every sandbox (SIGTERM lets each flush its telemetry) and fails waiting invocations. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.sandboxes].map(
        (sandbox) =>
          new Promise<void>((resolve) => {
            if (sandbox.child.exitCode !== null || sandbox.child.signalCode !== null) return resolve();
            const timer = setTimeout(() => sandbox.child.kill('SIGKILL'), 5000);
            sandbox.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            sandbox.child.kill('SIGTERM');
          }),
      ),
    );
    this.sandboxes.clear();
  }

  private async acquire(): Promise<Sandbox> {
    const files = await this.files;
    for (;;) {
      if (this.closed) throw new SandboxFailure('the fleet is shutting down', 0);
      // A killed sandbox (timed out, or reaped while idle) stays in the set until its exit event: never reuse it.
      const warm = [...this.sandboxes].find((s) => !s.busy && !s.child.killed && s.child.connected);
      if (warm) {
        clearTimeout(warm.idleTimer);
        warm.busy = true;
        return warm;
      }
      if (this.sandboxes.size < this.config.concurrency) return this.start(files);
      if (this.waiting.length >= this.config.maxWaiting) {
        throw new FleetFull(
          `${this.waiting.length} invocations of ${this.functionName} already wait for a sandbox (the limit)`,
        );
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(sandbox: Sandbox): void {
    sandbox.busy = false;
    // A sandbox killed (timeout) or dead is gone even before its exit event: never hand it to the next invocation.
    if (sandbox.child.killed || sandbox.child.exitCode !== null || sandbox.child.signalCode !== null) {
      this.sandboxes.delete(sandbox);
    } else if (!this.closed) {
      sandbox.idleTimer = setTimeout(() => sandbox.child.kill('SIGTERM'), this.config.idleMs);
      sandbox.idleTimer.unref();
    }
    this.waiting.shift()?.();
  }

  /** Called with the build in hand (acquire waits for it), so that no await comes between the check and the add. */
  private async start(files: SandboxFiles): Promise<Sandbox> {
    const child = forkSandbox(this.functionName, this.config, this.env, files);
    const sandbox: Sandbox = { child, busy: true };
    this.sandboxes.add(sandbox);
    child.once('exit', () => {
      clearTimeout(sandbox.idleTimer);
      this.sandboxes.delete(sandbox);
      // A slot freed by a dead sandbox lets a waiting invocation start a new one — also when it died while starting,
      // which no release() follows (a waiter woken twice just waits again).
      this.waiting.shift()?.();
    });
    await this.ready(sandbox);
    return sandbox;
  }

  /**
   * Resolves when the new sandbox says it is ready. One that dies first, or is not ready within the start-up timeout
   * (a preload or handler import that hangs), fails the invocation that started it; a hung one is killed and its slot
   * freed at once, so it can neither hold the slot nor be handed to the next invocation.
   */
  private ready(sandbox: Sandbox): Promise<void> {
    const { child } = sandbox;
    return new Promise<void>((resolve, reject) => {
      const onMessage = (message: { type: string }) => {
        if (message.type !== 'ready') return;
        cleanup();
        resolve();
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new SandboxFailure(`sandbox failed to start (exit ${signal ?? code})`, 0));
      };
      const timer = setTimeout(() => {
        cleanup();
        child.kill('SIGKILL');
        this.sandboxes.delete(sandbox);
        this.waiting.shift()?.();
        reject(new SandboxFailure(`sandbox not ready within ${this.config.startTimeoutMs} ms; killed`, 0));
      }, this.config.startTimeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }
}
