/**
 * A stack of the bench's own: a fresh state folder and ports from `base` (base..base+13), so a figure does not
 * depend on what the shared stack holds (a Jaeger store grown by earlier runs compacts in the background and takes
 * CPU from the processes measured) and a bench never disturbs it. It runs the Collector config committed in the
 * repository unless `extra` names another.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portEnvironment, stackConfig } from '../../stack/config.ts';
import { Stack, type StackStatus } from '../../stack/stack.ts';

export interface BenchStack {
  stack: Stack;
  /** What points a process at this stack: its ports, state folder, local store and the standard OTLP endpoint. */
  overrides: Record<string, string>;
  /**
   * The environment of every process the bench starts: this process's, without the endpoints and the Collector
   * config the user (or a bench run before in the same `npm run bench`) set, with `overrides`.
   */
  env: Record<string, string | undefined>;
  stateDir: string;
  /** Starts it; when it is not healthy, stops it (keeping the state folder for its logs) and throws. */
  up(): Promise<StackStatus>;
  /** Stops the stack; the state folder is removed unless `keep` (its logs explain a failure). */
  down(keep?: boolean): Promise<void>;
}

/**
 * The stack, not started yet. `extra` is stack settings for this one (a Collector config, GC settings), given the
 * state folder.
 */
export function benchStack(
  name: string,
  base: number,
  say: (line: string) => void = () => {},
  extra: (stateDir: string) => Record<string, string> = () => ({}),
): BenchStack {
  const stateDir = mkdtempSync(join(tmpdir(), `observatory-bench-${name}-`));
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
  const stack = new Stack({ config: stackConfig({ ...inherited, ...extra(stateDir), ...overrides }), say });
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
    up: async () => {
      try {
        const status = await stack.up();
        if (!status.healthy) throw new Error(`the bench stack in ${stateDir} is not healthy`);
        return status;
      } catch (error) {
        await down(true);
        throw error;
      }
    },
    down,
  };
}

/** A bench stack, started. */
export async function startBenchStack(
  name: string,
  base: number,
  say?: (line: string) => void,
): Promise<BenchStack> {
  const bench = benchStack(name, base, say);
  await bench.up();
  return bench;
}
