/**
 * One run of the demo platform on a bench stack, as `npm run demo` runs it, measured from /proc: every process of the
 * platform (found as descendants of this one: the services, the ETL listener, its worker sandboxes) and each stack
 * component is sampled every second from the platform's start, the warm-up included (the total's peak is the whole
 * run's); the steady figures are the medians of the samples taken during the load. The load is the demo's: the load
 * generator at `rate` for `seconds`, its first ten seconds reported apart.
 *
 * A design is the demo's settings (its `OBSERVATORY_DEMO_*` variables) and whether it warms up before the load, so
 * that the previous design runs beside the current one in the same bench.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { startPlatform } from '../../demo/platform.ts';
import { DEFAULT_MIX, runLoad, type LoadReport } from '../../demo/load-generator.ts';
import { warmUp } from '../../demo/warm-up.ts';
import { REPO_ROOT } from '../../common/paths.ts';
import type { IsolatedStack } from '../../stack/isolated-stack.ts';
import { cpuMs, pssMiB, stackPids, statusMiB } from './proc.ts';

export interface DemoDesign {
  name: string;
  /** The demo's settings of this design (empty: the current defaults). */
  env: Record<string, string>;
  /** Warm every route before the load, as `npm run demo` now does. */
  warmUp: boolean;
}

export interface DemoRun {
  design: string;
  report: LoadReport;
  /** The summed RSS (and PSS) of every process at its peak sample, and each component's share then. */
  peak: { rss: number; pss: number };
  /**
   * Per component (summed over its processes): its peak RSS, and the medians of its RSS and PSS samples during the
   * load (PSS splits the pages Node processes share, the node binary's among them).
   */
  components: Map<string, { peak: number; steady: number; steadyPss: number }>;
  /** Worker sandboxes seen: how many, the highest VmHWM, the median of their samples. */
  sandboxes: { count: number; peak: number; steady: number };
  /** CPU milliseconds the platform's processes used per request of the load (CPU time, not wall time). */
  cpuMsPerRequest: number;
  /** One-minute load average when the load started and when it ended. */
  load: [number, number];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Sample {
  during: 'start' | 'load';
  rss: number;
  pss: number;
  byComponent: Map<string, number>;
  pssByComponent: Map<string, number>;
}

export async function measureDemo(
  bench: IsolatedStack,
  design: DemoDesign,
  load: { rate: number; seconds: number },
): Promise<DemoRun> {
  const stackPids = await stackProcesses(bench);
  const platform = await startPlatform({
    freePorts: true,
    env: { ...bench.overrides, ...design.env },
    logDir: join(bench.stateDir, `demo-logs-${design.name}`),
  });
  const sampler = new Sampler(stackPids);
  const timer = setInterval(() => sampler.sample(), 1000);
  try {
    if (design.warmUp) await warmUp({ gateway: platform.urls.gateway, rate: load.rate });
    await submitJob(platform.urls.gateway);
    sampler.startLoad();
    const startLoad = loadavg()[0]!;
    const report = await runLoad({
      url: platform.urls.gateway,
      rate: load.rate,
      durationSeconds: load.seconds,
      mix: DEFAULT_MIX,
      faultRate: 0,
    });
    sampler.sample();
    return { design: design.name, report, load: [startLoad, loadavg()[0]!], ...sampler.figures(report.sent) };
  } finally {
    clearInterval(timer);
    await platform.stop();
  }
}

/** One analytics job before the load, so worker sandboxes run during the window whatever the load's mix draws. */
async function submitJob(gateway: string): Promise<void> {
  const job = await fetch(`${gateway}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': 'u-bench' },
    body: JSON.stringify({ bbox: [2, 48, 3, 49], from: '2026-06-01', to: '2026-06-03' }),
  });
  if (job.status !== 202) throw new Error(`submitting a job answered ${job.status}: ${await job.text()}`);
}

/**
 * Which part of the demo a process of ours is, from its command line: a built entry (`<build>/catalog.mjs`, the
 * sandbox's `<build>/worker.mjs`: demo/platform.ts, etl/runtime/sandbox-build.ts) or a TypeScript source.
 */
export function componentOf(cmdline: string): string | undefined {
  const built = cmdline.match(
    /js-build\/\w+\/(gateway|catalog|downloads|users|etl-listener|worker)\.mjs/,
  )?.[1];
  if (built) return built === 'worker' ? 'worker sandbox' : built;
  if (cmdline.includes('etl/runtime/worker.ts')) return 'worker sandbox';
  const service = cmdline.match(/services\/(\w+)\/main\.ts/)?.[1];
  if (service) return service;
  if (cmdline.includes('etl/listener/main.ts')) return 'etl-listener';
  return undefined;
}

class Sampler {
  private readonly samples: Sample[] = [];
  private readonly sandboxes = new Map<number, { rss: number[]; hwm: number }>();
  /** Per platform process: its CPU time when the load started (0 for one started later) and when last seen. */
  private readonly cpu = new Map<number, { atLoad: number; last: number }>();
  private during: Sample['during'] = 'start';
  private readonly stackPids: Map<number, string>;

  constructor(stackPids: Map<number, string>) {
    this.stackPids = stackPids;
  }

  startLoad(): void {
    this.sample();
    this.during = 'load';
    for (const seen of this.cpu.values()) seen.atLoad = seen.last;
  }

  sample(): void {
    const processes = this.processes();
    const { rss, pss, byName, byPid } = residentOf(processes);
    for (const { pid, name } of processes) {
      const value = byPid.get(pid);
      if (value === undefined) continue;
      if (!name.startsWith('stack: ')) this.seeCpu(pid);
      if (name === 'worker sandbox') this.seeSandbox(pid, value);
    }
    const byComponent = new Map([...byName].map(([name, x]) => [name, x.rss]));
    const pssByComponent = new Map([...byName].map(([name, x]) => [name, x.pss]));
    this.samples.push({ during: this.during, rss, pss, byComponent, pssByComponent });
  }

  figures(requests: number): Pick<DemoRun, 'peak' | 'components' | 'sandboxes' | 'cpuMsPerRequest'> {
    const peak = this.samples.reduce((a, b) => (b.rss > a.rss ? b : a), this.samples[0]!);
    const loaded = this.samples.filter((s) => s.during === 'load');
    const names = [...new Set(this.samples.flatMap((s) => [...s.byComponent.keys()]))].sort();
    const components = new Map(
      names.map((name) => [
        name,
        {
          peak: Math.max(...this.samples.map((s) => s.byComponent.get(name) ?? 0)),
          steady: median(loaded.map((s) => s.byComponent.get(name) ?? 0)),
          steadyPss: median(loaded.map((s) => s.pssByComponent.get(name) ?? 0)),
        },
      ]),
    );
    const cpu = [...this.cpu.values()].reduce((sum, seen) => sum + seen.last - seen.atLoad, 0);
    return {
      peak: { rss: peak.rss, pss: peak.pss },
      components,
      sandboxes: {
        count: this.sandboxes.size,
        peak: Math.max(0, ...[...this.sandboxes.values()].map((s) => s.hwm)),
        steady: median([...this.sandboxes.values()].flatMap((s) => s.rss)),
      },
      cpuMsPerRequest: requests > 0 ? cpu / requests : NaN,
    };
  }

  private processes(): { pid: number; name: string }[] {
    return [
      ...[...this.stackPids].map(([pid, name]) => ({ pid, name })),
      ...descendants(process.pid)
        .filter((p) => !this.stackPids.has(p.pid))
        .map((p) => ({ pid: p.pid, name: componentOf(p.cmdline) }))
        .filter((p): p is { pid: number; name: string } => p.name !== undefined),
    ];
  }

  private seeCpu(pid: number): void {
    const now = cpuMs(pid);
    const seen = this.cpu.get(pid);
    if (seen) seen.last = Math.max(seen.last, now);
    else this.cpu.set(pid, { atLoad: this.during === 'load' ? 0 : now, last: now });
  }

  private seeSandbox(pid: number, rss: number): void {
    const seen = this.sandboxes.get(pid) ?? { rss: [], hwm: 0 };
    if (this.during === 'load') seen.rss.push(rss);
    seen.hwm = Math.max(seen.hwm, statusMiB(pid, 'VmHWM') ?? 0);
    this.sandboxes.set(pid, seen);
  }
}

/** Every live descendant of `root`, with its command line. */
function descendants(root: number): { pid: number; cmdline: string }[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: { pid: number; cmdline: string }[] = [];
  const walk = (pid: number) => {
    for (const child of parents.get(pid) ?? []) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        continue;
      }
      found.push({ pid: child, cmdline });
      walk(child);
    }
  };
  walk(root);
  return found;
}

/** The whole `observatory demo` at its peak: every process, its own CLI included, and each one's share then. */
export interface DemoCliRun {
  /** Summed over every process at the sample whose summed PSS was highest. */
  peak: { rss: number; pss: number };
  /** At that sample, per component: RSS and PSS. */
  atPeak: Map<string, { rss: number; pss: number }>;
  /** The highest summed RSS of any sample (it may be another sample's than the PSS peak). */
  peakRss: number;
  seconds: number;
}

/**
 * `observatory demo --duration <seconds>` as a user runs it (`npm run demo`), on the bench stack (already up, so the
 * demo leaves it running), its services on ports of their own: the CLI itself (the load generator, the console, the
 * lake query it prints), its services and sandboxes, anything they start (a build's esbuild), and the stack, summed
 * every second. What the in-process run above leaves out is the CLI's own process.
 */
export async function measureDemoCli(
  bench: IsolatedStack,
  options: { base: number; seconds: number; rate: number },
): Promise<DemoCliRun> {
  const stackPids = await stackProcesses(bench);
  const began = performance.now();
  const { demo } = spawnDemoCli(bench, options.base, [
    '--duration',
    String(options.seconds),
    '--rate',
    String(options.rate),
  ]);
  let stderr = '';
  demo.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  const seen: { best?: { rss: number; pss: number; atPeak: DemoCliRun['atPeak'] }; peakRss: number } = {
    peakRss: 0,
  };
  const sample = () => {
    const processes = [
      ...[...stackPids].map(([pid, name]) => ({ pid, name })),
      { pid: demo.pid!, name: 'demo CLI (load, console, lake query)' },
      ...descendants(demo.pid!).map((p) => ({
        pid: p.pid,
        name: componentOf(p.cmdline) ?? (p.cmdline.split(' ')[0]!.split('/').at(-1) || 'other'),
      })),
    ];
    const { rss, pss, byName } = residentOf(processes);
    seen.peakRss = Math.max(seen.peakRss, rss);
    if (!seen.best || pss > seen.best.pss) seen.best = { rss, pss, atPeak: byName };
  };
  const timer = setInterval(sample, 1000);
  const code = await exited.finally(() => clearInterval(timer));
  if (code !== 0) throw new Error(`observatory demo exited ${code}: …${stderr}`);
  const { best, peakRss } = seen;
  if (!best) throw new Error('observatory demo ended before the first sample');
  return {
    peak: { rss: best.rss, pss: best.pss },
    atPeak: best.atPeak,
    peakRss,
    seconds: (performance.now() - began) / 1000,
  };
}

/** The stack's processes of the bench stack, named `stack: <component>`. */
async function stackProcesses(bench: IsolatedStack): Promise<Map<number, string>> {
  return new Map(Object.entries(await stackPids(bench.stack)).map(([name, pid]) => [pid, `stack: ${name}`]));
}

/**
 * Resident memory of `processes` now (those gone meanwhile left out): summed RSS and PSS in MiB, per name, and each
 * process's RSS.
 */
function residentOf(processes: { pid: number; name: string }[]): {
  rss: number;
  pss: number;
  byName: Map<string, { rss: number; pss: number }>;
  byPid: Map<number, number>;
} {
  const byName = new Map<string, { rss: number; pss: number }>();
  const byPid = new Map<number, number>();
  let rss = 0;
  let pss = 0;
  for (const { pid, name } of processes) {
    const value = statusMiB(pid, 'VmRSS');
    if (value === undefined) continue;
    const proportional = pssMiB(pid) ?? value;
    rss += value;
    pss += proportional;
    byPid.set(pid, value);
    const seen = byName.get(name) ?? { rss: 0, pss: 0 };
    byName.set(name, { rss: seen.rss + value, pss: seen.pss + proportional });
  }
  return { rss, pss, byName, byPid };
}

/** The demo's services' ports beside a bench stack at `base` (its own ports are base … base + 19). */
function demoPorts(
  base: number,
): Record<'gateway' | 'catalog' | 'downloads' | 'users' | 'etl' | 'ui', number> {
  return {
    gateway: base + 20,
    catalog: base + 21,
    downloads: base + 22,
    users: base + 23,
    etl: base + 24,
    ui: base + 25,
  };
}

/**
 * `observatory demo <args>` against the bench stack (already up, so the demo leaves it running), its services and
 * console on ports of their own beside the stack's (`demoPorts`); stderr piped.
 */
export function spawnDemoCli(
  bench: IsolatedStack,
  base: number,
  args: string[],
  env: Record<string, string> = {},
): { demo: ChildProcessByStdio<null, null, Readable>; ports: ReturnType<typeof demoPorts> } {
  const ports = demoPorts(base);
  const demo = spawn(process.execPath, ['cli/bin.js', 'demo', ...args], {
    cwd: REPO_ROOT,
    env: {
      ...bench.env,
      ...env,
      ...Object.fromEntries(
        Object.entries(ports).map(([name, port]) => [`OBSERVATORY_${name.toUpperCase()}_PORT`, String(port)]),
      ),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { demo, ports };
}
