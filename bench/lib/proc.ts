/**
 * What the benchmarks read from Linux's /proc: a process's CPU time and memory, the whole machine's CPU time, and
 * which processes are the local stack's.
 * CPU time, unlike throughput, is not inflated by other work on a shared machine.
 */
import { readFileSync } from 'node:fs';
import { Stack } from '../../stack/stack.ts';
import { isAnonymous, isV8Page, mappings } from '../../common/heap-pages.ts';

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

/**
 * Where a process's resident memory is, in MiB, from /proc/<pid>/smaps: `brk`, glibc's main heap; `arenas`, glibc's
 * other arenas (anonymous 64 MiB heaps on a 64 MiB boundary, which is how glibc maps them); `v8Pages`, anonymous
 * mappings of exactly 256 KiB — V8's regular heap pages, in use or kept in its page pool after a collection emptied
 * them (V8's own heap statistics count only the former); `anon`, every other anonymous mapping (V8's large objects
 * and code, large mmapped allocations, thread stacks); `file`, mapped files (the binary, libraries). Undefined when
 * the process is gone.
 */
export interface ResidentParts {
  brk: number;
  arenas: number;
  v8Pages: number;
  anon: number;
  file: number;
}

/** glibc maps each heap of an arena other than the main one as 64 MiB, on a 64 MiB boundary. */
const ARENA_BYTES = 64 * 2 ** 20;

export function residentParts(pid: number): ResidentParts | undefined {
  const maps = mappings(pid);
  if (!maps) return undefined;
  // An arena's heap: anonymous mappings laid end to end from a 64 MiB boundary covering exactly 64 MiB.
  const inArena = new Set<number>();
  for (let i = 0; i < maps.length; i++) {
    const first = maps[i]!;
    if (!isAnonymous(first) || first.start % ARENA_BYTES !== 0) continue;
    let j = i;
    while (
      j + 1 < maps.length &&
      maps[j]!.end < first.start + ARENA_BYTES &&
      maps[j + 1]!.start === maps[j]!.end &&
      isAnonymous(maps[j + 1]!)
    )
      j++;
    if (maps[j]!.end === first.start + ARENA_BYTES) for (let k = i; k <= j; k++) inArena.add(k);
  }
  const parts: ResidentParts = { brk: 0, arenas: 0, v8Pages: 0, anon: 0, file: 0 };
  maps.forEach((map, i) => {
    const mib = map.rssKb / 1024;
    if (map.path === '[heap]') parts.brk += mib;
    else if (inArena.has(i)) parts.arenas += mib;
    else if (isV8Page(map)) parts.v8Pages += mib;
    else if (isAnonymous(map) || map.path === '[stack]') parts.anon += mib;
    else if (map.path.startsWith('/')) parts.file += mib;
  });
  return parts;
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
