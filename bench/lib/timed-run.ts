/**
 * A command run as a user runs it, every line of its output (stdout and stderr) stamped with the seconds since it
 * started, echoed as it comes, and the CPU time it and everything it waited for used (the kernel's cutime and
 * cstime of this process, read before and after: a wall time on a shared machine says little alone).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

export interface TimedLine {
  /** Seconds since the command started. */
  at: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface TimedRun {
  code: number | null;
  seconds: number;
  /** User + system CPU seconds of the command and its waited-for descendants. */
  cpuSeconds: number;
  lines: TimedLine[];
  loadBefore: number[];
  loadAfter: number[];
}

export interface TimedRunOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  /** Each line as it comes (progress for whoever runs the bench). @default nothing */
  echo?: (line: TimedLine) => void;
  /** Stops the command when aborted (SIGINT to its process group, as Ctrl-C would). */
  signal?: AbortSignal;
}

/** Children's CPU seconds so far (waited-for descendants only), from /proc/self/stat. */
function childrenCpuSeconds(): number {
  // Fields after the command name (which may hold spaces): cutime and cstime are the 14th and 15th, in clock ticks.
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

export async function timedRun(command: string, args: string[], options: TimedRunOptions): Promise<TimedRun> {
  const loadBefore = loadavg();
  const cpuBefore = childrenCpuSeconds();
  const started = performance.now();
  const lines: TimedLine[] = [];
  // A process group of its own: Ctrl-C reaches every process of the command (npm, its shell, the demo), not npm alone.
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const read = (stream: 'stdout' | 'stderr') => {
    let partial = '';
    child[stream].on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      for (const text of parts) {
        const line = { at: (performance.now() - started) / 1000, stream, text };
        lines.push(line);
        options.echo?.(line);
      }
    });
  };
  read('stdout');
  read('stderr');
  const interrupt = () => {
    try {
      process.kill(-child.pid!, 'SIGINT');
    } catch {
      // Already gone.
    }
  };
  options.signal?.addEventListener('abort', interrupt, { once: true });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  return {
    code,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: childrenCpuSeconds() - cpuBefore,
    lines,
    loadBefore,
    loadAfter: loadavg(),
  };
}

/** The time of the first line matching `pattern`, or undefined. */
export function firstAt(lines: TimedLine[], pattern: RegExp): number | undefined {
  return lines.find((l) => pattern.test(l.text))?.at;
}

/** The time of the last line matching `pattern`, or undefined. */
export function lastAt(lines: TimedLine[], pattern: RegExp): number | undefined {
  return lines.findLast((l) => pattern.test(l.text))?.at;
}

/** The longest silence between two lines within [from, to] (seconds). */
export function longestSilence(lines: TimedLine[], from: number, to: number): number {
  const times = [from, ...lines.map((l) => l.at).filter((at) => at > from && at < to), to];
  return Math.max(0, ...times.slice(1).map((at, i) => at - times[i]!));
}
