/**
 * common/js-build.ts: a built module keeps its source's URL (what it resolves paths from), and the expression is what
 * is replaced, never the same words inside a string — a generated entry's `import.meta.url` must stay the built
 * entry's own (the ETL sandbox finds its staging thread beside it).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { jsBuild } from '../../common/js-build.ts';
import { REPO_ROOT } from '../../common/paths.ts';

describe('A JavaScript build of our modules', () => {
  it("gives each module its source's URL, leaves the expression in strings alone, and the entry its own URL", async () => {
    const built = await jsBuild({
      entries: {
        'url-check': {
          contents: [
            `import { own, generated } from './test/support/fixtures/js-build-url.ts';`,
            `console.log(JSON.stringify({ own, generated, entry: import.meta.url }));`,
          ].join('\n'),
        },
      },
    });
    expect(built).toBeDefined();
    const entry = built!['url-check']!;
    const printed = JSON.parse(execFileSync(process.execPath, [entry], { encoding: 'utf8' })) as Record<
      string,
      string
    >;
    expect(printed.own).toBe(
      pathToFileURL(join(REPO_ROOT, 'test', 'support', 'fixtures', 'js-build-url.ts')).href,
    );
    expect(printed.generated).toBe(`new URL('./staging.mjs', import.meta.url)`);
    expect(printed.entry).toBe(pathToFileURL(entry).href);
  });

  it('leaves no esbuild service process behind once the build is done (≈ 35 MiB each, for nothing)', async () => {
    await jsBuild({ entries: { 'service-check': { contents: `console.log('built');` } } });
    // esbuild's stop() kills the service and resolves at once: the killed process may still be exiting (a loaded
    // machine took long enough for one CI run to see it), so this waits for it to be gone rather than reading /proc once.
    await vi.waitFor(
      () => expect(childrenOf(process.pid).filter((cmdline) => cmdline.includes('esbuild'))).toEqual([]),
      { timeout: 10_000, interval: 50 },
    );
  });
});

/** The command lines of this process's children (from /proc). */
function childrenOf(pid: number): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === pid ? [readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ')] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
}
