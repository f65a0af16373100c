/**
 * Where the ETL fleet's CPU and memory go, read from /proc: CPU time per process (the bench process in the
 * listener's role, each sandbox, each stack component) over a measured window, divided by the chunks it ran, and a
 * sandbox's resident memory (VmRSS now, VmHWM its peak). On a shared machine a throughput ratio says little on its
 * own; CPU milliseconds per chunk per process show which process saturates the cores, and the machine's busy time
 * that none of them account for is other work on the machine.
 */
import type { Figure } from '../report.ts';
import { cpuMs, machineCpuMs, statusMiB } from './proc.ts';

/** Resident memory now and at its peak (VmRSS, VmHWM), in MiB; undefined when the process is gone. */
export function rssMiB(pid: number): { rss: number; peak: number } | undefined {
  const rss = statusMiB(pid, 'VmRSS');
  const peak = statusMiB(pid, 'VmHWM');
  return rss === undefined || peak === undefined ? undefined : { rss, peak };
}

/** CPU milliseconds over one window, by process group (e.g. `sandboxes`: every sandbox's pid summed). */
export interface CpuWindow {
  byProcess: Record<string, number>;
  /** The machine's busy time in the window (all cores), and its busy time none of the named processes used. */
  machineBusy: number;
  unaccounted: number;
  /** Wall time of the window. */
  wallMs: number;
}

/**
 * Starts a CPU window over named groups of processes; `pids` is read again at the end, so sandboxes started during
 * the window count (a sandbox that exited inside the window loses its time: keep fleets warm while measuring).
 */
export function cpuWindow(pids: () => Record<string, number[]>): () => CpuWindow {
  const started = performance.now();
  const machineStart = machineCpuMs();
  const start = new Map<number, number>();
  for (const list of Object.values(pids())) for (const pid of list) start.set(pid, cpuMs(pid));
  return () => {
    const byProcess: Record<string, number> = {};
    for (const [name, list] of Object.entries(pids())) {
      byProcess[name] = list.reduce((sum, pid) => sum + cpuMs(pid) - (start.get(pid) ?? 0), 0);
    }
    const machineEnd = machineCpuMs();
    const machineBusy = machineEnd.busy - machineStart.busy;
    const accounted = Object.values(byProcess).reduce((a, b) => a + b, 0);
    return {
      byProcess,
      machineBusy,
      unaccounted: Math.max(0, machineBusy - accounted),
      wallMs: performance.now() - started,
    };
  };
}

/** Sums CPU windows (e.g. every round of one fleet size). */
export function addWindows(windows: CpuWindow[]): CpuWindow {
  const byProcess: Record<string, number> = {};
  for (const w of windows)
    for (const [name, ms] of Object.entries(w.byProcess)) byProcess[name] = (byProcess[name] ?? 0) + ms;
  const sum = (pick: (w: CpuWindow) => number) => windows.reduce((a, w) => a + pick(w), 0);
  return {
    byProcess,
    machineBusy: sum((w) => w.machineBusy),
    unaccounted: sum((w) => w.unaccounted),
    wallMs: sum((w) => w.wallMs),
  };
}

/**
 * A Markdown table: CPU milliseconds per chunk by process, one column per fleet size, and the cores each process
 * kept busy (CPU time ÷ wall time) — the process nearest a whole core, or the sum nearest the machine's cores, is
 * what saturates.
 */
export function cpuTable(windows: Map<number, { window: CpuWindow; chunks: number }>): string {
  const sizes = [...windows.keys()];
  const names = [...new Set([...windows.values()].flatMap((w) => Object.keys(w.window.byProcess)))];
  const cell = (size: number, ms: number) => {
    const { window, chunks } = windows.get(size)!;
    return `${(ms / chunks).toFixed(2)} ms (${(ms / window.wallMs).toFixed(2)} core)`;
  };
  const lines = [
    `| process | ${sizes.map((s) => `fleet ${s}: CPU per chunk (cores busy)`).join(' | ')} |`,
    `| --- | ${sizes.map(() => '---').join(' | ')} |`,
  ];
  for (const name of names)
    lines.push(
      `| ${name} | ${sizes.map((s) => cell(s, windows.get(s)!.window.byProcess[name] ?? 0)).join(' | ')} |`,
    );
  lines.push(
    `| everything else on the machine | ${sizes.map((s) => cell(s, windows.get(s)!.window.unaccounted)).join(' | ')} |`,
    `| machine busy (all cores) | ${sizes.map((s) => cell(s, windows.get(s)!.window.machineBusy)).join(' | ')} |`,
  );
  return lines.join('\n');
}

/**
 * The issue-17 figures of the fleet: chunks/s with 2 sandboxes against 1 (P5.fleet, target 1.6×) and a worker
 * sandbox's peak RSS (P5.sandbox-rss, target 100 MiB). The fleet figure's note carries the ceiling this machine
 * allows, from the CPU per chunk measured in the same runs: one sandbox is bound by its own core (1 core ÷ its CPU
 * per chunk), two by the machine (cores ÷ the CPU per chunk of every process that works for a chunk), so the ratio
 * cannot pass cores × sandbox CPU ÷ total CPU, whatever the fleet does.
 */
export function fleetFigures(options: {
  /** Median chunks/s by fleet size. */
  rates: Map<number, number>;
  cpu: Map<number, { window: CpuWindow; chunks: number }>;
  /** Every sandbox's memory at the end of the runs. */
  memory: { rss: number; peak: number }[];
  cores: number;
}): Figure[] {
  const figures: Figure[] = [];
  const one = options.rates.get(1);
  const two = options.rates.get(2);
  const cpuOne = options.cpu.get(1);
  if (one !== undefined && two !== undefined && cpuOne) {
    const perChunk = (ms: number) => ms / cpuOne.chunks;
    const sandbox = perChunk(cpuOne.window.byProcess.sandboxes ?? 0);
    const ours = perChunk(Object.values(cpuOne.window.byProcess).reduce((a, b) => a + b, 0));
    const ceiling = ours > 0 ? Math.max(1, Math.min(options.cores, (options.cores * sandbox) / ours)) : NaN;
    figures.push({
      id: 'P5.fleet',
      figure: 'ETL fleet: crop_stats chunks/s, 2 sandboxes vs 1',
      ours: two,
      baseline: one,
      baselineName: '1 sandbox',
      unit: 'chunks/s',
      target: 1.6,
      targetIsRatio: true,
      better: 'higher',
      note:
        `CPU per chunk with 1 sandbox: sandbox ${sandbox.toFixed(1)} ms, all stack processes and the dispatcher ` +
        `${ours.toFixed(1)} ms → this machine's ceiling ${ceiling.toFixed(2)}×`,
    });
  }
  if (options.memory.length > 0) {
    figures.push({
      id: 'P5.sandbox-rss',
      figure: 'ETL worker sandbox RSS, peak over the runs',
      ours: Math.max(...options.memory.map((m) => m.peak)),
      unit: 'MiB',
      target: 100,
      better: 'lower',
      note: `steady between jobs ${Math.max(...options.memory.map((m) => m.rss)).toFixed(0)} MiB`,
    });
  }
  return figures;
}
