/** `observatory new service` without installing anything: what it writes, and what it refuses. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../common/paths.ts';
import { tempFolder } from '../../support/team.ts';

const work = tempFolder('new-unit');
afterAll(() => work.remove());

function observatory(...args: string[]) {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'cli', 'bin.js'), ...args], {
    cwd: work.dir,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('observatory new service', () => {
  it('writes the service, names every file with --json, and fills in the name and the package specs', () => {
    const dir = join(work.dir, 'orders');
    const run = observatory('new', 'service', 'orders-api', '--dir', dir, '--packages', 'registry', '--json');
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { name: string; dir: string; files: string[] };
    expect(result).toMatchObject({ name: 'orders-api', dir });
    expect(result.files).toEqual(
      expect.arrayContaining([
        '.env',
        'Dockerfile',
        'deploy/compose.yaml',
        'deploy/values.yaml',
        'package.json',
        'src/app.ts',
        'src/events/greeting_sent.1-0-0.ts',
        'src/events/index.ts',
        'src/main.ts',
        'test/app.test.ts',
      ]),
    );
    for (const file of result.files) expect(existsSync(join(dir, file)), file).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name: string;
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(manifest.name).toBe('orders-api');
    expect(manifest.scripts.start).toContain('--import @observatory/instrumentation/register');
    // The service publishes its events beside the data through a script of its own (README says so).
    expect(manifest.scripts['events:publish']).toBe('observatory schemas publish --dir src/events');
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('npm run events:publish');
    expect(manifest.dependencies).toMatchObject({
      '@observatory/instrumentation': '0.1.0',
      '@observatory/tracker': '0.1.0',
    });
    expect(readFileSync(join(dir, '.env'), 'utf8')).toContain('OTEL_SERVICE_NAME=orders-api');
    expect(readFileSync(join(dir, 'deploy', 'compose.yaml'), 'utf8')).toContain('  orders-api:');
    expect(readFileSync(join(dir, 'deploy', 'values.yaml'), 'utf8')).toContain(
      'OTEL_SERVICE_NAME: orders-api',
    );
    const leftovers = result.files.filter((file) => readFileSync(join(dir, file), 'utf8').includes('__'));
    expect(leftovers).toEqual([]);
  });

  it.each([
    ['express', 'express', "from 'express'"],
    ['fastify', 'fastify', "from 'fastify'"],
    ['koa', 'koa', "from 'koa'"],
  ])('starts a service on %s with --framework, its package in package.json', (framework, pkg, imported) => {
    const dir = join(work.dir, `on-${framework}`);
    const run = observatory(
      'new',
      'service',
      'shop',
      '--dir',
      dir,
      '--framework',
      framework,
      '--packages',
      'registry',
    );
    expect(run.status, run.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies)).toEqual(
      expect.arrayContaining(['@observatory/instrumentation', '@observatory/tracker', pkg]),
    );
    const others = ['express', 'fastify', 'koa'].filter((name) => name !== pkg);
    for (const other of others) expect(manifest.dependencies[other], other).toBeUndefined();
    expect(readFileSync(join(dir, 'src', 'app.ts'), 'utf8')).toContain(imported);
  });

  it('refuses an unknown --framework with exit 2 and writes nothing', () => {
    const dir = join(work.dir, 'on-rails');
    const run = observatory(
      'new',
      'service',
      'shop',
      '--dir',
      dir,
      '--framework',
      'rails',
      '--packages',
      'registry',
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--framework takes one of express, fastify, koa (got "rails"');
    expect(existsSync(dir)).toBe(false);
  });

  it('writes a valid package.json for a --packages folder whose path holds quotes, backslashes, spaces and a tab', () => {
    const folder = join(work.dir, 'my "packs" \\ v1\tdone');
    mkdirSync(folder);
    for (const file of ['observatory-instrumentation-0.1.0.tgz', 'observatory-tracker-0.1.0.tgz'])
      writeFileSync(join(folder, file), '');
    const dir = join(work.dir, 'quoted');
    const run = observatory('new', 'service', 'quoted-api', '--dir', dir, '--packages', folder);
    expect(run.status, run.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies).toMatchObject({
      '@observatory/instrumentation': `file:${join(folder, 'observatory-instrumentation-0.1.0.tgz')}`,
      '@observatory/tracker': `file:${join(folder, 'observatory-tracker-0.1.0.tgz')}`,
    });
  });

  it('refuses an existing directory with exit 2 and writes nothing', () => {
    const run = observatory('new', 'service', 'again', '--dir', work.dir, '--packages', 'registry');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${work.dir} already exists`);
  });

  it.each(['Orders', 'orders_api', '9orders', 'orders-', 'a--b'])(
    'refuses the name %j with exit 2',
    (name) => {
      const run = observatory('new', 'service', name, '--dir', join(work.dir, 'x'), '--packages', 'registry');
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('must be lowercase letters and digits');
      expect(existsSync(join(work.dir, 'x'))).toBe(false);
    },
  );
});
