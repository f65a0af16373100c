/**
 * The Python tracker's virtualenv, as scripts/setup.sh builds it (the wheel of python/ and pytest, under
 * .observatory/python/venv), and the way tests run its interpreter.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, STATE_ROOT } from '../../common/paths.ts';
import { spawnNode, type RunningApp } from './spawn.ts';

export const PYTHON = join(STATE_ROOT, 'python', 'venv', 'bin', 'python');

/** The interpreter, or an error that says how to get it. */
export function pythonOrThrow(): string {
  if (!existsSync(PYTHON)) {
    throw new Error(`${PYTHON} is missing: run npm run setup (it builds the Python tracker's wheel into it)`);
  }
  return PYTHON;
}

/** Runs a Python script of the repository with the virtualenv's interpreter, reading its stdout line by line. */
export function spawnPython(args: string[], env: Record<string, string> = {}): RunningApp {
  return spawnNode(args, env, { node: pythonOrThrow(), cwd: REPO_ROOT });
}
