/**
 * What the benchmarks read from Linux's /proc: a process's CPU time and memory, the whole machine's CPU time, and
 * which processes are the local stack's.
 * CPU time, unlike throughput, is not inflated by other work on a shared machine.
 */
import { readFileSync } from 'node:fs';
import { Stack } from '../../stack/stack.ts';

/** Linux's USER_HZ: /proc times are in these ticks (100 on every mainstream kernel build). */
const CLOCK_TICKS = 100;

/** User + system CPU milliseconds a process has used so far; 0 when it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at ")"; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** A field of /proc/<pid>/status in MiB (VmRSS: resident now, VmHWM: its peak); undefined when the process is gone. */
export function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(
      new RegExp(`^${field}:\\s+(\\d+)`, 'm'),
    )?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** Proportional set size in MiB (shared pages split between the processes sharing them), when readable. */
export function pssMiB(pid: number): number | undefined {
  try {
    const kb = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+)/m)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU milliseconds of the whole machine (all cores) so far, from /proc/stat. */
export function machineCpuMs(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3]! + fields[4]!;
  return { busy: ((total - idle) * 1000) / CLOCK_TICKS, total: (total * 1000) / CLOCK_TICKS };
}

/** The local stack's processes by component name (their pid files), for measuring them beside our own. */
export async function stackPids(stack = new Stack({ say: () => {} })): Promise<Record<string, number>> {
  const status = await stack.status();
  return Object.fromEntries(
    status.components.filter((c) => c.pid !== null).map((c) => [c.name, c.pid!] as const),
  );
}
