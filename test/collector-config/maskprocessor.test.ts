/**
 * Our own Collector processor, collector-config/maskprocessor: its Go tests (pattern order, ignored keys, nested
 * values, span events and links, log bodies, config errors) run with `go test`, as the Collector build compiles it
 * (no cgo; the modules from the Go module proxy, the versions its go.sum pins). End to end through the built
 * Collector: pipelines.test.ts; the literals of the committed patterns: redaction.unit.test.ts.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../stack/config.ts';

const run = promisify(execFile);
const source = join(REPO_ROOT, 'collector-config', 'maskprocessor');
const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' };

describe('The mask processor (Go)', () => {
  it('passes go vet and its Go tests', { timeout: 600_000 }, async () => {
    await run('go', ['vet', './...'], { cwd: source, env, timeout: 600_000 });
    const { stdout } = await run('go', ['test', '-count=1', '-v', './...'], {
      cwd: source,
      env,
      timeout: 600_000,
    });
    const passed = stdout.split('\n').filter((line) => line.startsWith('--- PASS'));
    expect(stdout).not.toMatch(/^--- FAIL/m);
    expect(passed.map((line) => line.split(' ')[2])).toEqual(
      expect.arrayContaining([
        'TestMaskStringRunsThePatternsInOrder',
        'TestTracesEveryAttributeButTheIgnoredOnes',
        'TestLogsAttributesAndBody',
        'TestValidateNamesWhatIsWrong',
      ]),
    );
  });
});
