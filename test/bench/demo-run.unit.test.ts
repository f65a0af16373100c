/**
 * The memory bench tells the demo's processes apart by their command lines, as the platform and the fleet start them:
 * built entries (demo/platform.ts, etl/runtime/sandbox-build.ts) or the TypeScript sources.
 */
import { describe, expect, it } from 'vitest';
import { componentOf } from '../../bench/lib/demo-run.ts';

const node = '/repo/node_modules/node/bin/node';
const build = '/repo/.observatory/js-build/0123456789abcdef';

describe("The memory bench's names for the demo's processes", () => {
  it.each([
    [`${node} --max-semi-space-size=2 --require ${build}/preload.mjs ${build}/catalog.mjs`, 'catalog'],
    [
      `${node} --max-semi-space-size=2 --require ${build}/preload.mjs ${build}/etl-listener.mjs`,
      'etl-listener',
    ],
    [
      `${node} --max-semi-space-size=4 --max-old-space-size=96 --require ${build}/preload.mjs ${build}/worker.mjs`,
      'worker sandbox',
    ],
    [`${node} --require ./instrumentation services/gateway/main.ts`, 'gateway'],
    [`${node} --require ./instrumentation etl/listener/main.ts`, 'etl-listener'],
    [`${node} --require ./instrumentation /repo/etl/runtime/worker.ts`, 'worker sandbox'],
  ])('%s is the %s', (cmdline, name) => {
    expect(componentOf(cmdline)).toBe(name);
  });

  it('names nothing else: the preload alone, another build entry, an unrelated process', () => {
    expect(componentOf(`${node} ${build}/preload.mjs`)).toBeUndefined();
    expect(componentOf(`${node} ${build}/staging.mjs`)).toBeUndefined();
    expect(componentOf(`${node} bench/run.ts memory`)).toBeUndefined();
  });
});
