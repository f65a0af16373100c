/**
 * A stack of the bench's own: a fresh state folder and ports from `base` (base..base+13), so a figure does not
 * depend on what the shared stack holds (a Jaeger store grown by earlier runs compacts in the background and takes
 * CPU from the processes measured) and a bench never disturbs it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portEnvironment, stackConfig } from '../../cli/stack/config.ts';
import { Stack } from '../../cli/stack/stack.ts';

export interface BenchStack {
  stack: Stack;
  /**
   * The environment of every process the bench starts: this process's, without the endpoints the user (or a bench
   * run before in the same `npm run bench`) set, with the ports of this stack.
   */
  env: Record<string, string | undefined>;
  /** The Collector's OTLP/HTTP endpoint, for processes that read only the standard variables. */
  otlpHttp: string;
  stateDir: string;
  /** Stops the stack; the state folder is removed unless `keep` (its logs explain a failure). */
  down(keep?: boolean): Promise<void>;
}

export async function startBenchStack(
  name: string,
  base: number,
  say: (line: string) => void = () => {},
): Promise<BenchStack> {
  const stateDir = mkdtempSync(join(tmpdir(), `observatory-bench-${name}-`));
  const env: Record<string, string | undefined> = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) => !/^OBSERVATORY_\w+_(ENDPOINT|URL)$|^OTEL_EXPORTER_OTLP_/.test(key),
      ),
    ),
    OBSERVATORY_S3_MODE: 'local',
    OBSERVATORY_STACK_DIR: stateDir,
    ...portEnvironment(base),
  };
  const stack = new Stack({ config: stackConfig(env), say });
  const down = async (keep = false) => {
    await stack.down();
    if (!keep) rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    if (!(await stack.up()).healthy) throw new Error(`the bench stack in ${stateDir} is not healthy`);
  } catch (error) {
    await down(true);
    throw error;
  }
  return { stack, env, otlpHttp: `http://127.0.0.1:${stack.config.collector.otlpHttp}`, stateDir, down };
}
