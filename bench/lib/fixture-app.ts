/**
 * The benchmarks' Express app (bench/fixtures/app.cjs) as a child process: started with preloads or flags before it,
 * ready once it prints its LISTENING line.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/paths.ts';

export const APP = join(REPO_ROOT, 'bench', 'fixtures', 'app.cjs');

/** The route the benchmarks load: a small JSON response, as in the demo services. */
export const appUrl = (port: number) => `http://127.0.0.1:${port}/api/scenes/S2A_MSIL2A_20260601`;

export interface App {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts the app with `nodeArgs` before it (preloads, flags) and waits for its LISTENING line; `ipc` forks it with an
 * IPC channel (the profile and heap hooks of the fixture answer over it).
 */
export async function startApp(
  nodeArgs: string[],
  env: Record<string, string | undefined>,
  ipc: boolean,
): Promise<App> {
  const child = ipc
    ? fork(APP, [], { cwd: REPO_ROOT, env, execArgv: nodeArgs, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
    : spawn(process.execPath, [...nodeArgs, APP], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(/^LISTENING (\d+)$/m);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`app ${nodeArgs.join(' ')} exited (${code}): ${stderr}`)));
    setTimeout(() => reject(new Error(`app ${nodeArgs.join(' ')} did not listen in 60 s`)), 60_000).unref();
  });
  child.stdout!.resume();
  return {
    child,
    port,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    },
  };
}
