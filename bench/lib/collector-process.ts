/**
 * Runs one of our Collectors with a role's committed config files (a tier of the scale-out topology) as a child
 * process: started with its own environment, awaited on its health port, stopped by its pid (never by name), and
 * measured by the CPU time it used (/proc/<pid>/stat), which is what "spans per second per core" divides by.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { ensureCollectorFor } from '../../stack/build.ts';
import { collectorConfigArgs, collectorRoleFiles, type CollectorRole } from '../../stack/collector-roles.ts';
import { stackConfig } from '../../stack/config.ts';
import { pollUntil, sleep } from '../../common/poll.ts';
import { cpuMs } from './proc.ts';

export interface CollectorOptions {
  /** The role whose files (stack/collector-roles.ts) it runs, e.g. `gateway-sampling`. */
  role: CollectorRole;
  env: Record<string, string>;
  healthPort: number;
  /** Where its output goes. */
  logFile: string;
}

export class CollectorProcess {
  private child: ChildProcess | undefined;
  readonly name: string;
  private readonly options: CollectorOptions;

  constructor(name: string, options: CollectorOptions) {
    this.name = name;
    this.options = options;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get log(): string {
    try {
      return readFileSync(this.options.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  async start(timeoutMs = 30_000): Promise<void> {
    // The scale-out roles run the full build, which `stack up` does not make: built here the first time.
    const binary = await ensureCollectorFor(
      stackConfig(),
      (line) => process.stderr.write(`${line}\n`),
      this.options.role,
    );
    const log = createWriteStream(this.options.logFile, { flags: 'a' });
    const child = spawn(binary, collectorConfigArgs(collectorRoleFiles(this.options.role)), {
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.child = child;
    let exited = false;
    child.once('exit', () => (exited = true));
    await pollUntil(
      `${this.name} healthy on port ${this.options.healthPort}`,
      async () => {
        if (exited) throw new Error(`${this.name} exited:\n${this.log.slice(-2000)}`);
        const response = await fetch(`http://127.0.0.1:${this.options.healthPort}/`);
        return response.ok ? true : undefined;
      },
      { timeoutMs, intervalMs: 200 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${this.log.slice(-2000)}`);
    });
  }

  /** User + system CPU seconds the process has used so far. */
  cpuSeconds(): number {
    return this.child?.pid ? cpuMs(this.child.pid) / 1000 : 0;
  }

  /** Stops it with `signal` (SIGTERM: a graceful shutdown; SIGKILL: a crash) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The value of every sample of `metric` in a Prometheus text exposition, with its labels. */
export function promSamples(
  text: string,
  metric: string,
): { labels: Record<string, string>; value: number }[] {
  const samples: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const match = /^[^{ ]+(?:\{(.*)\})? ([^ ]+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ labels, value: Number(match[2]) });
  }
  return samples;
}

/**
 * Waits (up to `timeoutMs`) until the Collector's queue to Jaeger is empty and its sent-span count stops rising,
 * reading the Collector's own metrics at `url`.
 */
export async function jaegerDrained(url: string, timeoutMs: number): Promise<void> {
  let last = -1;
  for (let waited = 0; waited < timeoutMs; waited += 500) {
    const text = await (await fetch(url)).text();
    const ofJaeger = (metric: string) =>
      promSamples(text, metric)
        .filter((s) => s.labels.exporter === 'otlp_grpc/jaeger')
        .reduce((sum, s) => sum + s.value, 0);
    const sent = ofJaeger('otelcol_exporter_sent_spans');
    if (ofJaeger('otelcol_exporter_queue_size') === 0 && sent === last) return;
    last = sent;
    await sleep(500);
  }
}
