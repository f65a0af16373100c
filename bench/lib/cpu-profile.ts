/**
 * Self time by function from a V8 `.cpuprofile` (what `node --cpu-prof` writes): the frames a process spent its
 * samples in, most first, each with its share of the profile. Idle and GC are kept as frames: they say where the
 * rest of the time went. `selfTimeByOwner` sums the same samples by the package (or file of the repository) whose
 * code was running or had called the native and Node-internal code running.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO_ROOT } from '../../common/paths.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Frame {
  /** `function (file:line)`, the file relative to node_modules or the repository. */
  frame: string;
  selfMs: number;
  /** Share of all samples, in per cent. */
  share: number;
}

function where(url: string, line: number): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('node_modules/');
  const short = inModules >= 0 ? path.slice(inModules + 'node_modules/'.length) : relative(REPO_ROOT, path);
  return ` (${short}:${line + 1})`;
}

export function selfTime(file: string, top = 10): { totalMs: number; frames: Frame[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let totalMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const key = `${node.callFrame.functionName || '(anonymous)'}${where(node.callFrame.url, node.callFrame.lineNumber)}`;
    self.set(key, (self.get(key) ?? 0) + ms);
  }
  const frames = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, selfMs]) => ({ frame, selfMs, share: (selfMs / totalMs) * 100 }));
  return { totalMs, frames };
}

/**
 * The socket writes' bindings: their samples are the write system call (and, on a loaded machine, the time the
 * process waits to be scheduled back after it), the same per response with or without a preload: kept apart.
 */
const SOCKET_WRITES = /^write(v|Buffer|\w+String)$/;

/** The package a script belongs to (`@scope/name`, `name`), or its path in the repository. */
function owner(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules < 0) return relative(REPO_ROOT, path);
  const [first, second] = path.slice(inModules + 'node_modules/'.length).split('/');
  return first!.startsWith('@') ? `${first}/${second}` : first!;
}

/**
 * Self time by owner: each sample goes to the nearest frame, from the leaf up, that is a script of a package or of
 * the repository, so that Node's internals and natives (a header's validation, a buffer's hex encoding) count for
 * the package that called them; samples with no such frame keep their own name (`(idle)`, `(garbage collector)`,
 * the socket writes…).
 */
export function selfTimeByOwner(file: string, top = 15): { totalMs: number; owners: Frame[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const ownerOf = (id: number): string => {
    const leaf = byId.get(id)!;
    if (SOCKET_WRITES.test(leaf.callFrame.functionName) && !leaf.callFrame.url)
      return leaf.callFrame.functionName;
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const url = byId.get(at)!.callFrame.url;
      if (url && !url.startsWith('node:')) return owner(url);
    }
    return leaf.callFrame.functionName || '(anonymous)';
  };
  const self = new Map<string, number>();
  let totalMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const key = ownerOf(profile.samples[i]!);
    self.set(key, (self.get(key) ?? 0) + ms);
  }
  const owners = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, selfMs]) => ({ frame, selfMs, share: (selfMs / totalMs) * 100 }));
  return { totalMs, owners };
}
