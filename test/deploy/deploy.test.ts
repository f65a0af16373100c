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

  it('the Collector config passes `validate` with the files and environment compose gives the collector service', async () => {
    const document = composeDocument() as {
      services: { collector: { command: string[]; environment: Record<string, string> } };
    };
    // The image holds collector-config/*.yaml in /etc/otelcol/ (Dockerfile.collector); the command names the local
    // role's files there (roles.unit.test.ts).
    const command = document.services.collector.command.map((arg) =>
      arg.replace(/^\/etc\/otelcol\//, `${join(REPO_ROOT, 'collector-config')}/`),
    );
    // The image is the full build (Dockerfile.collector builds manifest.yaml): the production roles run it too.
    await run(collectorBinaryPath(stackConfig(), 'full'), ['validate', ...command], {
      env: { ...process.env, ...document.services.collector.environment },
    });
  });
});
