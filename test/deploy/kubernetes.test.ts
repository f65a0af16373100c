/**
 * Every hand-written Kubernetes manifest (deploy/kubernetes/manifests/) decodes strictly into the Kubernetes API
 * types — what `kubectl apply --validate=strict` asks the API server for: an unknown field, a wrong type or an
 * unknown kind fails, and broken copies of a manifest prove that the check does fail. The validator is
 * test/deploy/k8s-validate, a small Go program on k8s.io/api (the API server's own types, from the Go module proxy;
 * nothing is downloaded at run time), built once into the stack's cache folder. The Helm values for the official
 * charts cannot be rendered here (the charts are in no registry this machine reaches): deploy.unit.test.ts only
 * parses them.
 */
import { execFile } from 'node:child_process';
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
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, stackConfig } from '../../stack/config.ts';

const run = promisify(execFile);
const dir = join(REPO_ROOT, 'deploy', 'kubernetes', 'manifests');
const manifests = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('deploy/kubernetes/manifests', () => {
  // The first build compiles k8s.io/api (about a minute on an idle machine); later runs reuse the binary.
  beforeAll(async () => {
    await k8sValidator();
  }, 600_000);

  it('every manifest decodes strictly into the Kubernetes API types', async () => {
    expect(manifests).toEqual(expect.arrayContaining(['services.yaml', 'collector-tiers.yaml']));
    const { stdout } = await run(
      await k8sValidator(),
      manifests.map((f) => join(dir, f)),
    );
    // One line per document, each OK (any failure exits non-zero, which rejects above).
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(manifests.length);
    for (const line of lines) expect(line).toMatch(/: OK \S+ Kind=\w+ \S+$/);
    expect(stdout).toContain('Kind=StatefulSet observatory-gateway-sampling');
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
  ])('rejects a copy of a manifest with %s', async (_what, from, to, message) => {
    const original = readFileSync(join(dir, 'services.yaml'), 'utf8');
    expect(original).toContain(from);
    const broken = join(mkdtempSync(join(tmpdir(), 'observatory-k8s-')), 'broken.yaml');
    writeFileSync(broken, original.replace(from, to));
    const failure = await run(await k8sValidator(), [broken]).then(
      () => undefined,
      (error: { stdout?: string }) => error.stdout,
    );
    rmSync(dirname(broken), { recursive: true, force: true });
    expect(failure).toMatch(message);
  });
});

let validator: Promise<string> | undefined;
function k8sValidator(): Promise<string> {
  return (validator ??= buildK8sValidator());
}

/** Built once per source version (keyed by go.mod, go.sum and main.go); offline builds use the module cache. */
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
