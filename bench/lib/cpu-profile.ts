/**
 * Self time by function from a V8 `.cpuprofile` (what `node --cpu-prof` writes): the frames a process spent its
 * samples in, most first, each with its share of the profile. Idle and GC are kept as frames: they say where the
 * rest of the time went.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO_ROOT } from '../../common/paths.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
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
