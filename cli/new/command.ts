/**
 * `observatory new service <name>`: a ready service from cli/new/templates/service — an Express app with one route,
 * the preload in its start script, one event schema with a `track()` call, a test, a Dockerfile, a compose entry and
 * Helm values, the service information as environment variables. Works outside this repository as well as inside.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { UsageError } from '../../common/errors.ts';
import { REPO_ROOT } from '../../common/paths.ts';
import { buildPackages } from '../../packages/build.ts';
import { parseOptions } from '../args.ts';

export const NEW_USAGE = `  new service <name> [--dir D] [--packages DIR|registry] [--json]
                               create a service from the template in D (default ./<name>); the @observatory
                               packages come from DIR's tarballs (default: this repository's, packed now) or the registry`;

const TEMPLATE = join(REPO_ROOT, 'cli', 'new', 'templates', 'service');
const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Template files whose names a package manager or git would act on inside this repository. */
const RENAMED: Record<string, string> = { 'env.tmpl': '.env', 'gitignore.tmpl': '.gitignore' };

export interface NewServiceResult {
  name: string;
  dir: string;
  files: string[];
  packages: { instrumentation: string; tracker: string };
}

export async function newCommand(args: string[]): Promise<number> {
  const [kind, ...rest] = args;
  if (kind !== 'service') throw new UsageError(`new takes "service" (got ${JSON.stringify(kind ?? '')})`);
  const { values, positionals } = parseOptions(rest, ['dir', 'packages'], ['json'], true);
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
  const result = createService(name, dir, packageSpecs(values.packages));
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    process.stdout.write(`created ${name} in ${dir}:\n${result.files.map((f) => `  ${f}`).join('\n')}\n`);
    process.stdout.write(
      `next: cd ${relative(process.cwd(), dir) || '.'} && npm install && npm test && npm start\n`,
    );
  }
  return 0;
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
): NewServiceResult {
  const versions = repoVersions();
  const replacements: Record<string, string> = {
    __NAME__: name,
    __INSTRUMENTATION__: packages.instrumentation,
    __TRACKER__: packages.tracker,
    __EXPRESS__: versions.express,
    __TYPES_EXPRESS__: versions['@types/express'],
    __TYPES_NODE__: versions['@types/node'],
    __TYPESCRIPT__: versions.typescript,
  };
  const files: string[] = [];
  for (const template of templateFiles(TEMPLATE)) {
    const base = relative(TEMPLATE, template);
    const target = RENAMED[base] ?? base.replace(/\.tmpl$/, '');
    const escape = target.endsWith('.json') ? jsonStringContent : (value: string) => value;
    let text = readFileSync(template, 'utf8');
    for (const [placeholder, value] of Object.entries(replacements))
      text = text.replaceAll(placeholder, escape(value));
    mkdirSync(dirname(join(dir, target)), { recursive: true });
    writeFileSync(join(dir, target), text);
    files.push(target);
  }
  return { name, dir, files: files.sort(), packages };
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
function repoVersions(): Record<'express' | '@types/express' | '@types/node' | 'typescript', string> {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const all = { ...manifest.dependencies, ...manifest.devDependencies };
  return {
    express: all.express!,
    '@types/express': all['@types/express']!,
    '@types/node': all['@types/node']!,
    typescript: all.typescript!,
  };
}
