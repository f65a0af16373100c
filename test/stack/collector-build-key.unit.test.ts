/**
 * A Collector build's cache key follows what goes into the binary: the manifest's data and the Go sources of our own
 * components (a `path` module), not a comment, a test, or a stray file beside them (a `go test -c` binary).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { collectorBuildKey } from '../../stack/config.ts';

const root = mkdtempSync(join(tmpdir(), 'build-key-'));
cpSync(join(REPO_ROOT, 'collector-config'), join(root, 'collector-config'), { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("A Collector build's cache key", () => {
  it('changes with the Go sources of our own processor, not with its tests, stray files or comments', () => {
    const key = () => collectorBuildKey('local', root);
    const first = key();
    expect(first).toBe(collectorBuildKey('local', REPO_ROOT));
    const processor = join(root, 'collector-config', 'maskprocessor');
    writeFileSync(join(processor, 'maskprocessor.test'), 'a test binary');
    appendFileSync(join(processor, 'processor_test.go'), '\n// another test\n');
    appendFileSync(join(root, 'collector-config', 'manifest-local.yaml'), '\n# a comment\n');
    expect(key()).toBe(first);
    appendFileSync(join(processor, 'processor.go'), '\n// a change\n');
    expect(key()).not.toBe(first);
  });
});
