/**
 * A team's own repository, outside this one: a temporary folder with its own package.json and node_modules, the
 * packed @observatory tarballs and express installed from the registry (or, offline, from npm's cache:
 * `--prefer-offline` — the test machine's network namespace has no registry), and other Node lines installed the
 * same way (the `node` package from npm).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../../common/paths.ts';

/** The Node 22 line the packages and the framework apps are checked on besides the test run's Node 24. */
export const NODE_22 = '22.22.3';

const OFFLINE_FIRST = {
  ...process.env,
  npm_config_prefer_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
};

/** A fresh folder outside the repository; removed by the returned function. */
export function tempFolder(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `observatory-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `npm install …` in `dir` (this machine's npm), failing with npm's output when it fails. */
export function npmInstall(dir: string, specs: string[] = []): void {
  const result = spawnSync('npm', ['install', '--prefer-offline', ...specs], {
    cwd: dir,
    env: OFFLINE_FIRST,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`npm install ${specs.join(' ')} failed in ${dir}:\n${result.stdout}\n${result.stderr}`);
  }
}

/** Runs an npm script with `node` on PATH being `node` (default: this process' Node). */
export function npmRun(
  dir: string,
  script: string,
  node = process.execPath,
): { status: number | null; output: string } {
  const result = spawnSync('npm', ['run', script], {
    cwd: dir,
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` },
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

/** Installs the `node` package at `version` into its own folder and returns the binary's path. */
export function installNode(version: string, into: string): string {
  mkdirSync(into, { recursive: true });
  writeFileSync(join(into, 'package.json'), JSON.stringify({ name: 'node-line', private: true }));
  npmInstall(into, [`node@${version}`]);
  return join(into, 'node_modules', 'node', 'bin', 'node');
}

/** Copies a fixture folder into `dir` and writes its package.json with the given dependencies. */
export function writeTeamApp(fixture: string, dir: string, manifest: Record<string, unknown>): void {
  cpSync(fixture, dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The version of a dependency this repository pins. */
export function repoVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const version = manifest.dependencies[name] ?? manifest.devDependencies[name];
  if (!version) throw new Error(`${name} is not a dependency of this repository`);
  return version;
}
