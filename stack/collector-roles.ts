/**
 * The Collector's roles and the files of collector-config/ each is made of, in the order they are given to
 * `--config`. The Collector merges them: a map key by key, anything else (a list, a value) replaced whole by the later
 * file, so the base comes first and the role's overlay after it. This is the one list: the local stack, the tests,
 * the benchmarks and the deployment files (held to it by test/collector-config/roles.unit.test.ts) use it.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../common/paths.ts';

export const COLLECTOR_ROLES = {
  /** The one Collector of a machine: `observatory stack up`, deploy/compose. */
  local: ['base.yaml', 'local.yaml'],
  /** The production entry point, TLS and a bearer token: deploy/kubernetes/values/opentelemetry-collector.yaml. */
  gateway: ['base.yaml', 'gateway.yaml'],
  /** The scale-out tiers (docs/scaling-out.md): deploy/kubernetes/manifests/collector-tiers.yaml. */
  agent: ['agent.yaml'],
  'gateway-lb': ['gateway-lb.yaml'],
  'gateway-sampling': ['base.yaml', 'gateway-sampling.yaml'],
} as const satisfies Record<string, readonly string[]>;

export type CollectorRole = keyof typeof COLLECTOR_ROLES;

/**
 * The Collector builds and the ocb manifest (in collector-config/) each is made from. `local` has only what the local
 * role names, so a fresh machine's `stack up` compiles far less; `full` has every role's components and is built
 * only when something starts another role (the scale-out tests and benchmarks, the deployment validators).
 */
export const COLLECTOR_BUILDS = {
  local: 'manifest-local.yaml',
  full: 'manifest.yaml',
} as const satisfies Record<string, string>;

export type CollectorBuild = keyof typeof COLLECTOR_BUILDS;

/** The build each role runs (test/collector-config/builds.unit.test.ts holds the manifests to the roles' configs). */
export const ROLE_BUILDS: Record<CollectorRole, CollectorBuild> = {
  local: 'local',
  gateway: 'full',
  agent: 'full',
  'gateway-lb': 'full',
  'gateway-sampling': 'full',
};

/** The build's manifest, absolute. */
export function collectorManifestFile(build: CollectorBuild, repoRoot: string = REPO_ROOT): string {
  return join(repoRoot, 'collector-config', COLLECTOR_BUILDS[build]);
}

/** A Collector configuration as YAML data: maps, lists and values. */
export type CollectorConfigData = { [key: string]: unknown };

/** Every role, in the order above. */
export function collectorRoles(): CollectorRole[] {
  return Object.keys(COLLECTOR_ROLES) as CollectorRole[];
}

/** The role's files, absolute, in merge order. */
export function collectorRoleFiles(role: CollectorRole, repoRoot: string = REPO_ROOT): string[] {
  return COLLECTOR_ROLES[role].map((file) => join(repoRoot, 'collector-config', file));
}

/** The Collector's command line for these files: `--config <file>` each, in merge order. */
export function collectorConfigArgs(files: readonly string[]): string[] {
  return files.flatMap((file) => ['--config', file]);
}

/** One config file's data, with YAML merge keys (`<<: *anchor`) applied as the Collector's YAML reader applies them. */
function readCollectorConfig(file: string): CollectorConfigData {
  return (parse(readFileSync(file, 'utf8'), { merge: true }) ?? {}) as CollectorConfigData;
}

/**
 * The configuration the Collector runs for these files, before it substitutes `${env:…}`: each file merged onto the
 * ones before it (test/collector-config/validate.test.ts compares this with the Collector's own merge).
 */
export function mergedCollectorConfig(files: readonly string[]): CollectorConfigData {
  return files.map(readCollectorConfig).reduce((merged, next) => mergeInto(merged, next), {});
}

const isMap = (value: unknown): value is CollectorConfigData =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `overlay` merged onto `base`: maps key by key; a list or a value of the overlay replaces the base's whole. */
function mergeInto(base: CollectorConfigData, overlay: CollectorConfigData): CollectorConfigData {
  const merged: CollectorConfigData = { ...base };
  for (const [key, value] of Object.entries(overlay))
    merged[key] = isMap(merged[key]) && isMap(value) ? mergeInto(merged[key], value) : value;
  return merged;
}

/**
 * The keys (as dotted paths, `service.pipelines.traces.exporters`) that one of the files sets to a list and a later one
 * sets too, or that a later file turns from a map into something else: what was there is silently replaced, the trap
 * of layered configs. A role's files should have none; a value that replaces a value (an endpoint) is an override.
 */
export function replacedLists(files: readonly string[]): string[] {
  const replaced: string[] = [];
  files.reduce((merged, file) => {
    const overlay = readCollectorConfig(file);
    replaced.push(...replacements(merged, overlay).map((path) => `${path} (replaced by ${basename(file)})`));
    return mergeInto(merged, overlay);
  }, {} as CollectorConfigData);
  return replaced;
}

/** The paths where `overlay` would replace a list of `base`, replace a value by a list, or a map by a non-map. */
function replacements(base: CollectorConfigData, overlay: CollectorConfigData, prefix = ''): string[] {
  return Object.entries(overlay).flatMap(([key, value]) => {
    if (!(key in base)) return [];
    const before = base[key];
    if (isMap(before) && isMap(value)) return replacements(before, value, `${prefix}${key}.`);
    return Array.isArray(before) || Array.isArray(value) || isMap(before) ? [`${prefix}${key}`] : [];
  });
}
