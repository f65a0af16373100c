/** Every Collector config in the repository must pass the built Collector's own `validate` command. */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { collectorBinaryPath } from '../../stack/build.ts';
import { stackEnvironment } from '../../stack/components.ts';
import { REPO_ROOT, stackConfig } from '../../stack/config.ts';

const run = promisify(execFile);
const configDir = join(REPO_ROOT, 'collector-config');
const configs = readdirSync(configDir).filter((file) => file.endsWith('.yaml') && file !== 'manifest.yaml');

describe('Collector configs', () => {
  it('include the local and gateway roles', () => {
    expect(configs).toEqual(expect.arrayContaining(['local.yaml', 'gateway.yaml']));
  });

  it.each(configs)('%s passes `otelcol-observatory validate`', async (file) => {
    const config = stackConfig();
    const failure = await run(collectorBinaryPath(config), ['validate', '--config', join(configDir, file)], {
      // The gateway role refuses to start without its token; a placeholder stands in for the secret.
      env: { ...process.env, ...stackEnvironment(config), OBSERVATORY_GATEWAY_TOKEN: 'validate-only' },
    }).then(
      () => undefined,
      (error: { stderr?: string; message: string }) => error.stderr || error.message,
    );
    expect(failure).toBeUndefined();
  });
});
