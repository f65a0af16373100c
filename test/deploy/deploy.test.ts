/**
 * The deployment files pass the validators available offline: the Compose Specification schema, `promtool check
 * config`, the built Collector's `validate` with the environment compose gives it, and YAML that parses, with every
 * path they mount present in the repository.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

  it('manifests name their kind and apiVersion', () => {
    for (const file of files.filter((f) => f.startsWith('manifests'))) {
      for (const document of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
        expect(document.toJS()).toMatchObject({ apiVersion: expect.any(String), kind: expect.any(String) });
      }
    }
  });
});
