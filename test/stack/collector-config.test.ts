/** Every Collector config in the repository must pass the built Collector's own `validate` command. */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { collectorBinaryPath } from '../../cli/stack/build.ts';
import { stackEnvironment } from '../../cli/stack/components.ts';
import { REPO_ROOT, stackConfig } from '../../cli/stack/config.ts';

const run = promisify(execFile);
const configDir = join(REPO_ROOT, 'collector-config');
const configs = readdirSync(configDir).filter((file) => file.endsWith('.yaml') && file !== 'manifest.yaml');

describe('Collector configs', () => {
  it('include at least the local role', () => {
    expect(configs).toContain('local.yaml');
  });

  it.each(configs)('%s passes `otelcol-observatory validate`', async (file) => {
    const config = stackConfig();
    const failure = await run(collectorBinaryPath(config), ['validate', '--config', join(configDir, file)], {
      env: { ...process.env, ...stackEnvironment(config) },
    }).then(
      () => undefined,
      (error: { stderr?: string; message: string }) => error.stderr || error.message,
    );
    expect(failure).toBeUndefined();
  });
});
