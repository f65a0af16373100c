/**
 * The deployment files pass the validators available offline: the Compose Specification schema (and `docker compose
 * config` where the CLI exists), `promtool check config`, the built Collector's `validate` with the environment
 * compose gives it, YAML that parses, with every path they mount present in the repository, and every hand-written
 * Kubernetes manifest decoded strictly into the Kubernetes API types (unknown fields, wrong types and unknown kinds
 * fail; broken copies prove it). The Helm values for the official charts cannot be rendered here (the charts are in
 * no registry this machine reaches): they are only parsed.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { collectorBinaryPath } from '../../cli/stack/build.ts';
import { REPO_ROOT, stackConfig } from '../../cli/stack/config.ts';

const run = promisify(execFile);
const compose = join(REPO_ROOT, 'deploy', 'compose');

/** Compose's own interpolation of ${VAR} from the .env file next to compose.yaml (no defaults used). */
function composeDocument(): Record<string, unknown> {
  const env = Object.fromEntries(
    readFileSync(join(compose, '.env'), 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z0-9_]+=/.test(line))
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  const text = readFileSync(join(compose, 'compose.yaml'), 'utf8').replace(
    /\$\{(\w+)\}/g,
    (_m, name: string) => {
      if (!(name in env)) throw new Error(`compose.yaml uses \${${name}}, which .env does not set`);
      return env[name]!;
    },
  );
  return parse(text, { merge: true }) as Record<string, unknown>;
}

describe('deploy/compose', () => {
  it('compose.yaml validates against the Compose Specification schema, with every variable set in .env', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const schemaFile = join(REPO_ROOT, 'test', 'deploy', 'schemas', 'compose-spec.json');
    // Its `$schema` spells draft 2019-09 with a trailing `#`, which ajv does not know by that name, and its old-style
    // `id` keywords (draft-04 labels such as "#/properties/services") mean nothing to validation.
    const { $schema: _draft, ...schema } = JSON.parse(
      readFileSync(schemaFile, 'utf8'),
      (key, value: unknown) => (key === 'id' && typeof value === 'string' ? undefined : value),
    ) as Record<string, unknown>;
    const validate = ajv.compile(schema);
    const document = composeDocument();
    const valid = validate(document);
    expect(valid ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
    const services = Object.keys(document.services as object);
    expect(services).toEqual(expect.arrayContaining(['collector', 'jaeger', 'prometheus', 'grafana', 's3']));
    expect(services).not.toContain('minio');
  });

  it('mounts and builds only files that exist', () => {
    const document = composeDocument() as {
      services: Record<string, { volumes?: string[]; build?: { context: string; dockerfile: string } }>;
    };
    for (const service of Object.values(document.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(compose, source)), volume).toBe(true);
      }
      if (service.build)
        expect(existsSync(join(compose, service.build.context, service.build.dockerfile))).toBe(true);
    }
  });

  // The Compose CLI validates interpolation, merges and every engine-specific rule the schema cannot express.
  // Machines without Docker (like CI here) have the schema check above only.
  const composeCli = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!composeCli)('compose.yaml passes `docker compose config`', async () => {
    await run('docker', ['compose', '-f', join(compose, 'compose.yaml'), 'config', '--quiet']);
  });

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

describe('deploy/kubernetes', () => {
  const dir = join(REPO_ROOT, 'deploy', 'kubernetes');
  const files = ['values', 'manifests'].flatMap((sub) =>
    readdirSync(join(dir, sub)).map((f) => join(sub, f)),
  );

  it.each(files)('%s parses as YAML', (file) => {
    const documents = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
    for (const document of documents) expect(document.errors).toEqual([]);
  });

  it('every manifest decodes strictly into the Kubernetes API types', async () => {
    const manifests = files.filter((f) => f.startsWith('manifests')).map((f) => join(dir, f));
    expect(manifests.length).toBeGreaterThan(0);
    const { stdout } = await run(await k8sValidator(), manifests);
    // One line per document, each OK (a failure exits non-zero, which rejects above).
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(manifests.length);
    for (const line of lines) expect(line).toMatch(/: OK \S+ Kind=\w+ \S+$/);
  });

  it.each([
    [
      'an unknown field',
      'image: ',
      'imagePullPolicyy: Always\n          image: ',
      /unknown field "spec\.template\.spec\.containers\[0\]\.imagePullPolicyy"/,
    ],
    [
      'a wrong type',
      'replicas: 2',
      'replicas: "two"',
      /cannot unmarshal string into Go struct field .*replicas of type int32/,
    ],
    [
      'an unknown kind',
      'kind: Deployment',
      'kind: Deploymnet',
      /no kind "Deploymnet" is registered for version "apps\/v1"/,
    ],
  ])('the validator rejects a copy of a manifest with %s', async (_what, from, to, message) => {
    const original = readFileSync(join(dir, 'manifests', 'services.yaml'), 'utf8');
    expect(original).toContain(from);
    const broken = join(mkdtempSync(join(tmpdir(), 'observatory-k8s-')), 'broken.yaml');
    writeFileSync(broken, original.replace(from, to));
    const failure = await run(await k8sValidator(), [broken]).then(
      () => undefined,
      (error: { stdout?: string }) => error.stdout,
    );
    expect(failure).toMatch(message);
    rmSync(dirname(broken), { recursive: true, force: true });
  });
});

/**
 * test/deploy/k8s-validate (Go, the Kubernetes API types from k8s.io/api via the module proxy), built once into the
 * stack's cache folder, keyed by its sources; offline builds use the module cache that setup filled.
 */
let validator: Promise<string> | undefined;
function k8sValidator(): Promise<string> {
  return (validator ??= buildK8sValidator());
}

async function buildK8sValidator(): Promise<string> {
  const source = join(REPO_ROOT, 'test', 'deploy', 'k8s-validate');
  const digest = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) digest.update(readFileSync(join(source, file)));
  const binary = join(
    stackConfig().cacheDir,
    'bin',
    `k8s-validate-${digest.digest('hex').slice(0, 12)}`,
    'k8s-validate',
  );
  if (!existsSync(binary)) {
    mkdirSync(dirname(binary), { recursive: true });
    await run('go', ['build', '-mod=readonly', '-o', `${binary}.partial`, '.'], {
      cwd: source,
      timeout: 600_000,
    });
    renameSync(`${binary}.partial`, binary);
  }
  return binary;
}
