/**
 * The Python tracker's own tests (python/tests/, pytest) against the wheel set-up installed: pytest runs once, and
 * each of its tests is a test here, so `npm test`'s count includes them. Collected at load (pytest --collect-only),
 * so a Python test added is a test counted without touching this file.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, STATE_ROOT } from '../../common/paths.ts';
import { pythonOrThrow } from '../support/python.ts';

const REPORT = join(STATE_ROOT, 'python', 'pytest-unit.xml');
// No cache folder in the clone, and the tests import the installed wheel, not python/observatory.
const PYTEST = ['-m', 'pytest', '-p', 'no:cacheprovider', '--rootdir', 'python', 'python/tests'];

function collect(): string[] {
  const run = spawnSync(pythonOrThrow(), [...PYTEST, '--collect-only', '-q'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`pytest could not collect python/tests:\n${run.stdout}${run.stderr}`);
  return run.stdout.split('\n').filter((line) => line.includes('::'));
}

interface Outcome {
  passed: boolean;
  failure: string;
}

/** The JUnit report's outcome per test, by pytest's ID (`tests/<file>.py::<name>`, relative to python/). */
function outcomes(xml: string): Map<string, Outcome> {
  const found = new Map<string, Outcome>();
  for (const match of xml.matchAll(
    /<testcase classname="([^"]*)" name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g,
  )) {
    const file = `${match[1]!.replaceAll('.', '/')}.py`;
    const body = match[4] ?? '';
    found.set(`${file}::${match[2]}`, { passed: !/<(failure|error|skipped)/.test(body), failure: body });
  }
  return found;
}

const ids = collect();
let results: Map<string, Outcome>;

beforeAll(() => {
  spawnSync(pythonOrThrow(), [...PYTEST, '-q', `--junitxml=${REPORT}`], { cwd: REPO_ROOT, encoding: 'utf8' });
  results = outcomes(readFileSync(REPORT, 'utf8'));
}, 120_000);

describe('The Python tracker (pytest python/tests)', () => {
  it('has its tests collected', () => {
    expect(ids.length).toBeGreaterThan(10);
  });

  it.each(ids)('%s', (id) => {
    const outcome = results.get(id);
    expect(outcome, `pytest reported nothing for ${id}`).toBeDefined();
    expect(outcome!.passed, outcome!.failure).toBe(true);
  });
});
