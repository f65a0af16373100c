/**
 * Every Collector role must pass the built Collector's own `validate` command as the role runs: its files
 * (stack/collector-roles.ts) merged by the Collector, each a `--config` flag in the role's order.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { collectorBinaryPath } from '../../stack/build.ts';
import {
  collectorConfigArgs,
  collectorRoleFiles,
  collectorRoles,
  type CollectorRole,
} from '../../stack/collector-roles.ts';
import { stackEnvironment } from '../../stack/components.ts';
import { stackConfig } from '../../stack/config.ts';

const run = promisify(execFile);

/** What `validate` says when it refuses the role's files, or undefined when it accepts them. */
function validate(role: CollectorRole, extraEnv: Record<string, string> = {}): Promise<string | undefined> {
  const config = stackConfig();
  return run(collectorBinaryPath(config), ['validate', ...collectorConfigArgs(collectorRoleFiles(role))], {
    // The gateway roles refuse to start without their token; a placeholder stands in for the secret.
    env: {
      ...process.env,
      ...stackEnvironment(config),
      OBSERVATORY_GATEWAY_TOKEN: 'validate-only',
      ...extraEnv,
    },
  }).then(
    () => undefined,
    (error: { stderr?: string; message: string }) => error.stderr || error.message,
  );
}

describe('Collector roles', () => {
  it('include the local and gateway roles', () => {
    expect(collectorRoles()).toEqual(expect.arrayContaining(['local', 'gateway']));
  });

  it.each(collectorRoles())(
    '%s passes `otelcol-observatory validate` with its files merged',
    async (role) => {
      expect(await validate(role)).toBeUndefined();
    },
  );

  it('fail `validate` when an overlay is given without the base (the check itself works)', async () => {
    const config = stackConfig();
    const [, overlay] = collectorRoleFiles('local');
    const failure = await run(collectorBinaryPath(config), ['validate', ...collectorConfigArgs([overlay!])], {
      env: { ...process.env, ...stackEnvironment(config) },
    }).then(
      () => 'validated',
      (error: { stderr?: string }) => error.stderr ?? '',
    );
    // The overlay's pipelines name processors and exporters that only the base defines.
    expect(failure).toMatch(/references processor "memory_limiter" which is not configured/);
  });
});
