/** The instrumentation pages say what the code does: the curated set and every variable the config module reads. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { instrumentationConfig } from '../../instrumentation/src/config.ts';
import { CURATED_OFF } from '../../instrumentation/src/instrumentations.ts';

const page = (name: string) => readFileSync(join(REPO_ROOT, 'docs', name), 'utf8');

describe('The instrumentation docs', () => {
  it('list exactly the instrumentations our curated set turns off', () => {
    const text = page('instrumentation.md');
    const table = text.slice(text.indexOf('| instrumentation | why it is off'));
    const rows = [...table.matchAll(/^ *\| `([a-z-]+)` +\|/gm)].map((match) => match[1]);
    expect(rows.sort()).toEqual([...CURATED_OFF].sort());
  });

  it('name every variable the instrumentation config module reads in the configuration page', () => {
    // The module is asked with an environment that records what is read: the list comes from the code itself.
    const read = new Set<string>();
    const recording = new Proxy({} as Record<string, string | undefined>, {
      get: (_target, name) => {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    });
    instrumentationConfig(recording, () => {});
    expect(read.size).toBeGreaterThan(20);
    const text = page('configuration.md');
    const missing = [...read].filter((name) => !text.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
