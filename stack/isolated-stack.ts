/**
 * A stack of its own on a port base: a fresh state folder and ports from `base` (base..base+13, portEnvironment), so
 * that a benchmark's figure does not depend on what the shared stack holds (a Jaeger store grown by earlier runs
 * compacts in the background and takes CPU from the processes measured), a test proves the Collector config in the
 * working tree (the shared Collector reads its config only when it starts), and neither disturbs the shared stack.
 * It runs the Collector config committed in the repository unless `settings` names another. The benchmarks
 * (bench/) and the tests (test/support/isolated-stack.ts) use this one mechanism; it is stopped by pid file, never
 * by name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portEnvironment, stackConfig } from './config.ts';
import type { ComponentName } from './components.ts';
import { Stack, type StackStatus } from './stack.ts';

export interface IsolatedStackOptions {
  /** What it reports as it starts and stops. @default nothing */
  say?: (line: string) => void;
  /**
   * Stack settings of this one (a Collector config, GC settings, a spanmetrics flush interval), given its state
   * folder. @default none
   */
  settings?: (stateDir: string) => Record<string, string>;
}

export interface IsolatedStack {
  stack: Stack;
  /** What points a process at this stack: its ports, state folder, local store and the standard OTLP endpoint. */
  overrides: Record<string, string>;
  /**
   * The environment of every process started against it: this process's, without the endpoints and the Collector
   * config the user (or a run before in the same process) set, with `overrides`.
   */
  env: Record<string, string | undefined>;
  stateDir: string;
  /**
   * Starts it (only the components named, when given); when one of them is not healthy, stops it (keeping the state
   * folder for its logs) and throws.
   */
  up(only?: ComponentName[]): Promise<StackStatus>;
  /** Stops the stack; the state folder is removed unless `keep` (its logs explain a failure). */
  down(keep?: boolean): Promise<void>;
}

/** The stack, not started yet; `name` names its state folder (`observatory-<name>-…` in the temporary folder). */
export function isolatedStack(name: string, base: number, options: IsolatedStackOptions = {}): IsolatedStack {
  const stateDir = mkdtempSync(join(tmpdir(), `observatory-${name}-`));
  const overrides: Record<string, string> = {
    OBSERVATORY_S3_MODE: 'local',
    OBSERVATORY_STACK_DIR: stateDir,
    ...portEnvironment(base),
  };
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !/^OBSERVATORY_\w+_(ENDPOINT|URL)$|^OTEL_EXPORTER_OTLP_|^OBSERVATORY_COLLECTOR_CONFIG$/.test(key),
    ),
  );
  const settings = options.settings?.(stateDir) ?? {};
  const stack = new Stack({
    config: stackConfig({ ...inherited, ...settings, ...overrides }),
    say: options.say ?? (() => {}),
  });
  // Processes that read only the standard variables (the zero-code anchor) export to this stack too.
  overrides.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${stack.config.collector.otlpHttp}`;
  const down = async (keep = false) => {
    await stack.down();
    if (!keep) rmSync(stateDir, { recursive: true, force: true });
  };
  return {
    stack,
    overrides,
    env: { ...inherited, ...overrides },
    stateDir,
    up: async (only?: ComponentName[]) => {
      try {
        const status = await stack.up(only);
        const started = status.components.filter((c) => !only || only.includes(c.name));
        if (!started.every((c) => c.healthy))
          throw new Error(`the isolated stack in ${stateDir} is not healthy`);
        return status;
      } catch (error) {
        await down(true);
        throw error;
      }
    },
    down,
  };
}

/** An isolated stack, started. */
export async function startIsolatedStack(
  name: string,
  base: number,
  options?: IsolatedStackOptions & { only?: ComponentName[] },
): Promise<IsolatedStack> {
  const isolated = isolatedStack(name, base, options);
  await isolated.up(options?.only);
  return isolated;
}
