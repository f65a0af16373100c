/**
 * Brings the real stack up once for the whole run (building what is missing) and hands its endpoints to the tests.
 * A stack that was already running is left running; one this run started is stopped at the end.
 */
import type { TestProject } from 'vitest/node';
import { ensureCollectorBuild } from '../../stack/build.ts';
import { Stack, type StackStatus } from '../../stack/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackStatus;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const say = (line: string) => process.stderr.write(`[stack] ${line}\n`);
  const stack = new Stack({ say });
  // The scale-out and gateway tests run the full Collector build, which `stack up` leaves for when it is needed;
  // built here, once, before the test files start side by side.
  await ensureCollectorBuild(stack.config, say, 'full');
  const before = await stack.status();
  const status = await stack.up();
  if (!status.healthy) {
    const sick = status.components.filter((c) => !c.healthy).map((c) => `${c.name} (log: ${c.log})`);
    throw new Error(`the stack is not healthy after up: ${sick.join(', ')}`);
  }
  project.provide('stack', status);
  return async () => {
    // Quietly: the run's last line must stay the reporter's `N passed, N failed` count.
    if (!before.components.some((c) => c.running)) await new Stack({ say: () => {} }).down();
  };
}
