/**
 * Every Collector role must pass the built Collector's own `validate` command as the role runs: its files
 * (stack/collector-roles.ts) merged by the Collector, each a `--config` flag in the role's order. And our reading of
 * a role's merged files (mergedCollectorConfig, which the benchmark's variants and the role tests use) is the
 * Collector's own: `print-config` resolves both to the same configuration.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { collectorBinaryPath } from '../../stack/build.ts';
import {
  collectorConfigArgs,
  collectorRoleFiles,
  collectorRoles,
  COLLECTOR_BUILDS,
  collectorManifestFile,
  mergedCollectorConfig,
  ROLE_BUILDS,
  type CollectorBuild,
  type CollectorRole,
} from '../../stack/collector-roles.ts';
import { stackEnvironment } from '../../stack/components.ts';
import { COMPONENT_KINDS, COMPONENT_MODULES, manifestModules, modulePath } from './components.ts';
import { stackConfig } from '../../stack/config.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'observatory-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the build of the Collector that runs the role (ROLE_BUILDS) with the stack's environment. */
function collector(role: CollectorRole, args: string[]): Promise<{ stdout: string }> {
  const config = stackConfig();
  return run(collectorBinaryPath(config, ROLE_BUILDS[role]), args, {
    // The gateway roles refuse to start without their token; a placeholder stands in for the secret.
    env: { ...process.env, ...stackEnvironment(config), OBSERVATORY_GATEWAY_TOKEN: 'validate-only' },
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** What `validate` says when it refuses the files, or undefined when it accepts them. */
function validate(role: CollectorRole, files: string[]): Promise<string | undefined> {
  return collector(role, ['validate', ...collectorConfigArgs(files)]).then(
    () => undefined,
    (error: { stderr?: string; message: string }) => error.stderr || error.message,
  );
}

/** The configuration the Collector resolves from the files: merged, variables substituted, defaults filled in. */
async function printConfig(role: CollectorRole, files: string[]): Promise<unknown> {
  const args = ['print-config', '--mode', 'unredacted', '--format', 'json', ...collectorConfigArgs(files)];
  return JSON.parse((await collector(role, args)).stdout) as unknown;
}

describe('Collector roles', () => {
  it('include the local and gateway roles', () => {
    expect(collectorRoles()).toEqual(expect.arrayContaining(['local', 'gateway']));
  });

  it.each(collectorRoles())(
    '%s passes `otelcol-observatory validate` with its files merged',
    async (role) => {
      expect(await validate(role, collectorRoleFiles(role))).toBeUndefined();
    },
  );

  it('fail `validate` when an overlay is given without its base (the check itself works)', async () => {
    const [, overlay] = collectorRoleFiles('local');
    // The overlay's traces pipeline takes its receivers and processors from the base.
    expect(await validate('local', [overlay!])).toContain(
      'service::pipelines::traces: must have at least one receiver',
    );
  });

  it.each(collectorRoles())(
    '%s: the Collector merges its files as mergedCollectorConfig does',
    async (role) => {
      const merged = join(dir, `${role}.yaml`);
      const data = mergedCollectorConfig(collectorRoleFiles(role));
      writeFileSync(merged, stringify(data, { aliasDuplicateObjects: false }));
      expect(await printConfig(role, [merged])).toEqual(await printConfig(role, collectorRoleFiles(role)));
    },
  );
});

describe('Collector builds', () => {
  it.each(Object.keys(COLLECTOR_BUILDS) as CollectorBuild[])(
    "%s: `components` lists exactly its manifest's modules, under the names the component table gives them",
    async (build) => {
      const { stdout } = await run(collectorBinaryPath(stackConfig(), build), ['components'], {
        maxBuffer: 16 * 1024 * 1024,
      });
      const listed = parse(stdout) as Record<string, { name: string; module: string }[] | undefined>;
      const modules = manifestModules(
        parse(readFileSync(collectorManifestFile(build), 'utf8')) as Record<string, unknown>,
      );
      for (const kind of COMPONENT_KINDS) {
        const entries = listed[kind] ?? [];
        expect(entries.map((e) => e.module).sort(), kind).toEqual([...modules[kind]].sort());
        for (const entry of entries)
          expect(COMPONENT_MODULES[kind][entry.name], `${kind}.${entry.name}`).toBe(modulePath(entry.module));
      }
    },
  );
});
