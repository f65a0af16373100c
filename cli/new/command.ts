/**
 * `observatory new service <name>`: a ready service from cli/new/templates/service — an Express, Fastify or Koa app
 * (cli/new/templates/frameworks/<framework>/app.ts) with one route,
 * the preload in its start script, one event schema with a `track()` call, a test, a Dockerfile, a compose entry and
 * Helm values, the service information as environment variables. Works outside this repository as well as inside.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { UsageError } from '../../common/errors.ts';
import { REPO_ROOT } from '../../common/paths.ts';
import { buildPackages } from '../../packages/build.ts';
import { parseOptions } from '../args.ts';
import {
  FRAMEWORK_NAMES,
  frameworkPackages,
  type FrameworkName,
  type FrameworkPackages,
  type RepoVersions,
} from './frameworks.ts';
import type { Verb } from '../verb.ts';

const NEW_USAGE = `  new service <name> [--dir D] [--framework express|fastify|koa] [--packages DIR|registry] [--json]
                               create a service from the template in D (default ./<name>) on the framework
                               (default express); the @observatory packages come from DIR's tarballs (default:
                               this repository's, packed now) or the registry`;

export const verb: Verb = { name: 'new', usage: NEW_USAGE, run: newCommand, ownHelp: false };

const TEMPLATES = join(REPO_ROOT, 'cli', 'new', 'templates');
const TEMPLATE = join(TEMPLATES, 'service');
const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Template files whose names a package manager or git would act on inside this repository. */
const RENAMED: Record<string, string> = { 'env.tmpl': '.env', 'gitignore.tmpl': '.gitignore' };

export interface NewServiceResult {
  name: string;
  dir: string;
  files: string[];
  packages: { instrumentation: string; tracker: string };
}

async function newCommand(args: string[]): Promise<number> {
  const [kind, ...rest] = args;
  if (kind !== 'service') throw new UsageError(`new takes "service" (got ${JSON.stringify(kind ?? '')})`);
  const { values, positionals } = parseOptions(rest, ['dir', 'packages', 'framework'], ['json'], true);
  if (positionals.length !== 1) throw new UsageError('new service takes exactly one name');
  const name = positionals[0]!;
  if (!NAME.test(name) || name.length > 63) {
    throw new UsageError(
      `service name ${JSON.stringify(name)} must be lowercase letters and digits in dash-separated words, starting with a letter (at most 63 characters)`,
    );
  }
  const dir = resolve(typeof values.dir === 'string' ? values.dir : name);
  if (existsSync(dir))
    throw new UsageError(`${dir} already exists; choose another --dir (nothing was written)`);
  const framework = frameworkOption(values.framework);
  const result = createService(name, dir, packageSpecs(values.packages), framework);
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    process.stdout.write(`created ${name} in ${dir}:\n${result.files.map((f) => `  ${f}`).join('\n')}\n`);
    process.stdout.write(
      `next: cd ${relative(process.cwd(), dir) || '.'} && npm install && npm test && npm start\n`,
    );
  }
  return 0;
}

function frameworkOption(option: string | boolean | string[] | undefined): FrameworkName {
  if (option === undefined) return 'express';
  if (typeof option === 'string' && (FRAMEWORK_NAMES as readonly string[]).includes(option)) {
    return option as FrameworkName;
  }
  throw new UsageError(
    `--framework takes one of ${FRAMEWORK_NAMES.join(', ')} (got ${JSON.stringify(option)}; nothing was written)`,
  );
}

/** The dependency specs of the two packages: tarballs in a folder (default: ours, packed now) or registry versions. */
function packageSpecs(option: string | boolean | string[] | undefined): NewServiceResult['packages'] {
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
  if (option === 'registry') return { instrumentation: version, tracker: version };
  if (typeof option === 'string') {
    const folder = resolve(option);
    const find = (prefix: string) => {
      const file = existsSync(folder)
        ? readdirSync(folder).find((f) => f.startsWith(prefix) && f.endsWith('.tgz'))
        : undefined;
      if (!file) throw new UsageError(`--packages ${option}: no ${prefix}*.tgz in ${folder}`);
      return `file:${join(folder, file)}`;
    };
    return { instrumentation: find('observatory-instrumentation-'), tracker: find('observatory-tracker-') };
  }
  const tarballs = buildPackages();
  return {
    instrumentation: `file:${tarballs['@observatory/instrumentation']}`,
    tracker: `file:${tarballs['@observatory/tracker']}`,
  };
}

export function createService(
  name: string,
  dir: string,
  packages: NewServiceResult['packages'],
  framework: FrameworkName = 'express',
): NewServiceResult {
  const versions = repoVersions();
  const stack = frameworkPackages(framework, versions);
  const replacements: Record<string, string> = {
    __NAME__: name,
    __FRAMEWORK__: stack.label,
    __INSTRUMENTATION__: packages.instrumentation,
    __TRACKER__: packages.tracker,
    __TYPES_NODE__: versions['@types/node']!,
    __TYPESCRIPT__: versions.typescript!,
  };
  const app = join(TEMPLATES, 'frameworks', framework, 'app.ts.tmpl');
  const sources: [string, string][] = [
    ...templateFiles(TEMPLATE).map((template): [string, string] => {
      const base = relative(TEMPLATE, template);
      return [template, RENAMED[base] ?? base.replace(/\.tmpl$/, '')];
    }),
    [app, join('src', 'app.ts')],
  ];
  const files: string[] = [];
  for (const [template, target] of sources) {
    const escape = target.endsWith('.json') ? jsonStringContent : (value: string) => value;
    let text = readFileSync(template, 'utf8');
    for (const [placeholder, value] of Object.entries(replacements))
      text = text.replaceAll(placeholder, escape(value));
    if (target === 'package.json') text = withPackages(text, stack);
    mkdirSync(dirname(join(dir, target)), { recursive: true });
    writeFileSync(join(dir, target), text);
    files.push(target);
  }
  return { name, dir, files: files.sort(), packages };
}

/** The service's package.json with its framework's packages added, the lists kept in name order. */
function withPackages(text: string, stack: FrameworkPackages): string {
  const manifest = JSON.parse(text) as Record<string, Record<string, string>>;
  const sorted = (entries: Record<string, string>) =>
    Object.fromEntries(Object.entries(entries).sort(([a], [b]) => a.localeCompare(b)));
  manifest.dependencies = sorted({ ...manifest.dependencies, ...stack.dependencies });
  manifest.devDependencies = sorted({ ...manifest.devDependencies, ...stack.devDependencies });
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * A value as the inside of a JSON string: placeholders in .json templates sit between quotes, and a `--packages`
 * path may hold quotes, backslashes (Windows) or control characters that would otherwise break the file.
 */
function jsonStringContent(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

function templateFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    return statSync(path).isDirectory() ? templateFiles(path) : [path];
  });
}

/** The versions this repository pins, so a new service starts on what our tests run. */
function repoVersions(): RepoVersions {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  return { ...manifest.dependencies, ...manifest.devDependencies };
}
