/**
 * The deployment files pass the validators that come with the stack's binaries: `promtool check config`, and the
 * built Collector's `validate` with the environment compose gives it. The binary-free checks are in
 * deploy.unit.test.ts.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { collectorBinaryPath } from '../../stack/build.ts';
import { REPO_ROOT, stackConfig } from '../../stack/config.ts';
import { compose, composeDocument } from './compose.ts';

const run = promisify(execFile);

describe('deploy/compose', () => {
  it('prometheus.yml passes `promtool check config`', async () => {
    const { stdout } = await run('promtool', ['check', 'config', join(compose, 'prometheus.yml')]);
    expect(stdout).toContain('SUCCESS');
  });

  it('the Collector config passes `validate` with the environment compose gives the collector service', async () => {
    const document = composeDocument() as {
      services: { collector: { environment: Record<string, string> } };
    };
    await run(
      collectorBinaryPath(stackConfig()),
      ['validate', '--config', join(REPO_ROOT, 'collector-config', 'local.yaml')],
      {
        env: { ...process.env, ...document.services.collector.environment },
      },
    );
  });
});
