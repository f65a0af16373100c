/**
 * The deployment files checked without any binary: compose.yaml against the Compose Specification schema with every
 * path it mounts present in the repository (and `docker compose config` where the CLI exists), and Kubernetes YAML
 * that parses and names its kinds (kubernetes.test.ts decodes the manifests strictly against the API types). The validators that
 * need the stack's binaries (promtool, the Collector's `validate`) are in deploy.test.ts.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';
import { compose, composeDocument } from './compose.ts';

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

  // The Compose CLI checks interpolation, merges and the engine's own rules, which the schema cannot express.
  // Machines without Docker (like this project's) have the schema check above only.
  const composeCli = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!composeCli)('compose.yaml passes `docker compose config`', async () => {
    await promisify(execFile)('docker', [
      'compose',
      '-f',
      join(compose, 'compose.yaml'),
      'config',
      '--quiet',
    ]);
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

  it('manifests name their kind and apiVersion', () => {
    for (const file of files.filter((f) => f.startsWith('manifests'))) {
      for (const document of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
        expect(document.toJS()).toMatchObject({ apiVersion: expect.any(String), kind: expect.any(String) });
      }
    }
  });
});
