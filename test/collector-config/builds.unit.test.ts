/**
 * The Collector builds hold exactly what their roles need: every component a role's merged config names comes from a
 * module of the manifest that role is built from (ROLE_BUILDS), and the local build — the one a fresh machine
 * compiles before the demo starts — has nothing its role does not name. The local manifest is a subset of the full
 * one at the same versions, so both builds agree on what a component is.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  COLLECTOR_BUILDS,
  collectorManifestFile,
  collectorRoleFiles,
  collectorRoles,
  mergedCollectorConfig,
  ROLE_BUILDS,
  type CollectorBuild,
  type CollectorRole,
} from '../../stack/collector-roles.ts';
import {
  COMPONENT_KINDS,
  componentsNamed,
  manifestModules,
  modulePath,
  type NamedComponent,
} from './components.ts';

const manifest = (build: CollectorBuild) =>
  parse(readFileSync(collectorManifestFile(build), 'utf8')) as Record<string, unknown> & {
    dist: Record<string, string>;
  };

/** The components the role's files name whose module is not in the build's manifest (or is unknown). */
function missingFrom(build: CollectorBuild, role: CollectorRole): string[] {
  const modules = manifestModules(manifest(build));
  const inBuild = (c: NamedComponent) =>
    c.module !== undefined && modules[c.kind].map(modulePath).includes(c.module);
  return componentsNamed(mergedCollectorConfig(collectorRoleFiles(role)))
    .filter((c) => !inBuild(c))
    .map((c) => `${c.kind}.${c.id}`);
}

describe('Collector builds', () => {
  it.each(collectorRoles())(
    '%s: every component its merged config names is in the manifest it is built from',
    (role) => {
      expect(missingFrom(ROLE_BUILDS[role], role)).toEqual([]);
    },
  );

  it('notice a component missing from a build (the check itself works)', () => {
    // (The forward connector is in both builds since the local role's Jaeger path uses one.)
    expect(missingFrom('local', 'gateway-sampling')).toEqual(
      expect.arrayContaining(['processors.tail_sampling']),
    );
    expect(missingFrom('local', 'gateway-lb')).toContain('exporters.load_balancing');
  });

  it("leave nothing in the local manifest that the local role's config does not name", () => {
    const named = new Set(
      componentsNamed(mergedCollectorConfig(collectorRoleFiles('local'))).map((c) => c.module),
    );
    const modules = manifestModules(manifest('local'));
    const unused = COMPONENT_KINDS.flatMap((kind) => modules[kind].map(modulePath)).filter(
      (m) => !named.has(m),
    );
    expect(unused).toEqual([]);
  });

  it('make the local manifest a subset of the full one, at the same versions, with the same binary name', () => {
    const local = manifestModules(manifest('local'));
    const full = manifestModules(manifest('full'));
    for (const kind of COMPONENT_KINDS) expect(full[kind]).toEqual(expect.arrayContaining(local[kind]));
    expect(manifest('local').dist.name).toBe(manifest('full').dist.name);
    expect(manifest('local').dist.module).toBe(manifest('full').dist.module);
  });

  it('run the local stack on the local build and every other role on the full one', () => {
    expect(Object.keys(COLLECTOR_BUILDS).sort()).toEqual(['full', 'local']);
    expect(collectorRoles().filter((role) => ROLE_BUILDS[role] === 'local')).toEqual(['local']);
  });
});
