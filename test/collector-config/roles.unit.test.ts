/**
 * The Collector's roles as layered files (stack/collector-roles.ts). The Collector merges a role's files, maps key by
 * key, but a list set by a later file silently replaces the earlier one whole (a pipeline's processors, a filter's
 * conditions): no role's files may do that. Every file says what it is for and what layers on it, every file belongs
 * to a role, and every place that starts a role (the local stack, compose, the image, Kubernetes) gives it the role's
 * files in the role's order. That each role's merged files are a valid config is validate.test.ts (it needs the
 * built Collector).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import {
  COLLECTOR_BUILDS,
  COLLECTOR_ROLES,
  collectorConfigArgs,
  collectorRoleFiles,
  collectorRoles,
  mergedCollectorConfig,
  replacedLists,
  type CollectorRole,
} from '../../stack/collector-roles.ts';
import { REPO_ROOT, stackConfig } from '../../stack/config.ts';
import { composeDocument } from '../deploy/compose.ts';

const configDir = join(REPO_ROOT, 'collector-config');
const manifests = new Set<string>(Object.values(COLLECTOR_BUILDS));
const configFiles = readdirSync(configDir).filter((f) => f.endsWith('.yaml') && !manifests.has(f));
const roleFiles = Object.values(COLLECTOR_ROLES) as readonly (readonly string[])[];

/** The files given before (`under`) or after (`over`) `file` in any role. */
const layered = (file: string, side: 'under' | 'over') =>
  new Set(
    roleFiles.flatMap((files) => {
      const at = files.indexOf(file);
      if (at < 0) return [];
      return side === 'under' ? files.slice(0, at) : files.slice(at + 1);
    }),
  );

/** The comment lines a file opens with, joined. */
function header(file: string): string {
  const lines = readFileSync(join(configDir, file), 'utf8').split('\n');
  const end = lines.findIndex((line) => !line.startsWith('#'));
  return lines
    .slice(0, end)
    .map((line) => line.replace(/^#\s?/, ''))
    .join(' ');
}

/** `--config` flags for the role's files as they are mounted in a container folder. */
const mountedArgs = (role: CollectorRole, dir: string) =>
  collectorConfigArgs(COLLECTOR_ROLES[role].map((file) => `${dir}/${file}`));

describe('The Collector roles', () => {
  it.each(collectorRoles())('%s: no file replaces a list that an earlier file set', (role) => {
    expect(replacedLists(collectorRoleFiles(role))).toEqual([]);
  });

  describe('the replaced-list check itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'observatory-roles-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const base = write(
      'base.yaml',
      "processors:\n  filter/a: {logs: {log_record: ['x']}}\n  p: {endpoint: a, timeout: 1s}\n" +
        'service:\n  pipelines:\n    traces: {receivers: [otlp], processors: [a, b]}\n',
    );

    it('finds a pipeline list, a list inside a component and a map replaced by a later file', () => {
      const overlay = write(
        'overlay.yaml',
        "processors:\n  filter/a: {logs: {log_record: ['y']}}\n  p: none\n" +
          'service:\n  pipelines:\n    traces: {processors: [a]}\n',
      );
      expect(replacedLists([base, overlay])).toEqual([
        'processors.filter/a.logs.log_record (replaced by overlay.yaml)',
        'processors.p (replaced by overlay.yaml)',
        'service.pipelines.traces.processors (replaced by overlay.yaml)',
      ]);
    });

    it('lets a later file add keys, add lists of its own and override a single value', () => {
      const overlay = write(
        'fine.yaml',
        'processors:\n  p: {endpoint: b}\nservice:\n  pipelines:\n    traces: {exporters: [otlp]}\n',
      );
      expect(replacedLists([base, overlay])).toEqual([]);
      expect(mergedCollectorConfig([base, overlay])).toEqual({
        processors: { 'filter/a': { logs: { log_record: ['x'] } }, p: { endpoint: 'b', timeout: '1s' } },
        service: {
          pipelines: { traces: { receivers: ['otlp'], processors: ['a', 'b'], exporters: ['otlp'] } },
        },
      });
    });
  });

  it('cover every Collector config file in collector-config/', () => {
    expect(new Set(roleFiles.flat())).toEqual(new Set(configFiles));
  });

  it.each(configFiles)('%s opens with a comment saying what it is for and what layers on it', (file) => {
    const text = header(file);
    expect(text).toMatch(/^Observatory Collector, [^:]+: \S/);
    const over = [...layered(file, 'over')];
    if (over.length === 0) expect(text).toMatch(/nothing layers on this file/i);
    for (const overlay of over) expect(text).toContain(overlay);
    for (const under of layered(file, 'under')) expect(text).toContain(`layers on ${under}`);
  });

  it('give the gateway role exactly the local role’s processing, but for the role name', () => {
    const read = (role: CollectorRole) =>
      mergedCollectorConfig(collectorRoleFiles(role)) as {
        processors: Record<string, unknown>;
        connectors: unknown;
        service: { pipelines: Record<string, { processors: string[] }> };
      };
    const local = read('local');
    const gateway = read('gateway');
    const withoutRole = (config: ReturnType<typeof read>) => ({ ...config.processors, resource: undefined });
    expect(withoutRole(gateway)).toEqual(withoutRole(local));
    expect(gateway.connectors).toEqual(local.connectors);
    const processorsOf = (config: ReturnType<typeof read>) =>
      Object.fromEntries(Object.entries(config.service.pipelines).map(([name, p]) => [name, p.processors]));
    expect(processorsOf(gateway)).toEqual(processorsOf(local));
  });
});

describe('Where a role is started', () => {
  it('the local stack runs the local role, or the files OBSERVATORY_COLLECTOR_CONFIG names, in their order', () => {
    expect(stackConfig({}).collectorConfigFiles).toEqual(collectorRoleFiles('local'));
    const named = stackConfig({
      OBSERVATORY_COLLECTOR_CONFIG: 'one.yaml, /etc/two.yaml',
    }).collectorConfigFiles;
    expect(named).toEqual([resolve('one.yaml'), '/etc/two.yaml']);
  });

  it('compose runs the local role', () => {
    const document = composeDocument() as { services: { collector: { command: string[] } } };
    expect(document.services.collector.command).toEqual(mountedArgs('local', '/etc/otelcol'));
  });

  it('the Collector image runs the local role by default and holds every file', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'deploy', 'compose', 'Dockerfile.collector'), 'utf8');
    expect(JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!)).toEqual(mountedArgs('local', '/etc/otelcol'));
    expect(dockerfile).toContain('COPY collector-config/*.yaml /etc/otelcol/');
  });

  it('the Kubernetes tiers run the agent, load-balancing and sampling roles from one ConfigMap of their files', () => {
    const file = join(REPO_ROOT, 'deploy', 'kubernetes', 'manifests', 'collector-tiers.yaml');
    const text = readFileSync(file, 'utf8');
    const workloads = parseAllDocuments(text).map(
      (doc) =>
        doc.toJS() as {
          kind: string;
          metadata: { name: string };
          spec: { template?: { spec: { containers: { args: string[] }[] } } };
        },
    );
    for (const role of ['agent', 'gateway-lb', 'gateway-sampling'] as const) {
      const workload = workloads.find((w) => w.spec.template && w.metadata.name === `observatory-${role}`);
      expect(workload?.spec.template!.spec.containers[0]!.args).toEqual(mountedArgs(role, '/etc/otelcol'));
      for (const part of COLLECTOR_ROLES[role])
        expect(text).toContain(`--from-file=collector-config/${part}`);
    }
  });

  it('the gateway chart values give the base as the chart’s first --config and the overlay after it', () => {
    const file = join(REPO_ROOT, 'deploy', 'kubernetes', 'values', 'opentelemetry-collector.yaml');
    const text = readFileSync(file, 'utf8');
    const values = parse(text) as {
      command: { extraArgs: string[] };
      extraVolumes: { name: string; configMap?: { items: { key: string }[] } }[];
    };
    const [first, ...overlays] = COLLECTOR_ROLES.gateway;
    expect(text).toContain(`--from-file=relay=collector-config/${first}`);
    expect(values.command.extraArgs).toEqual(overlays.map((f) => `--config=/etc/otelcol/role/${f}`));
    const mounted = values.extraVolumes.find((v) => v.name === 'role')?.configMap?.items.map((i) => i.key);
    expect(mounted).toEqual(overlays);
    for (const overlay of overlays)
      expect(text).toContain(`--from-file=${overlay}=collector-config/${overlay}`);
  });
});
