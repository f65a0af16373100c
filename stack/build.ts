/**
 * Builds (once) and locates the stack's binaries. Go programs come from the Go module proxy and are cached outside the
 * clone, keyed by version (the Collector also by its manifest's content), so a warm machine builds nothing.
 * A build writes to a temporary name and renames on success: an interrupted build never leaves a broken binary.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { allSettledOrThrow } from '../common/async.ts';
import { StackError } from './errors.ts';
import {
  COLLECTOR_BUILDS,
  collectorManifestFile,
  ROLE_BUILDS,
  type CollectorBuild,
  type CollectorRole,
} from './collector-roles.ts';
import { collectorBuildKey, UNVERIFIED_GO_MODULES, VERSIONS, type StackConfig } from './config.ts';

export interface Binaries {
  collector: string;
  jaeger: string;
  s3: string;
  prometheus: string;
  /** The java binary (resolved) and ElasticMQ's class path. */
  sqs: { java: string; classpath: string };
}

type Say = (line: string) => void;

/**
 * How our own `go install` and `go build` compile (ocb does the same for the Collector): no cgo, so nothing waits
 * for a C compiler and the standard library's net and os/user compile as pure Go; no paths of this machine and no
 * symbol tables or DWARF in the binaries, which makes the link (single-threaded, the last minute of a build) shorter.
 * The compiler is told not to generate the DWARF the linker would strip anyway (GOFLAGS, so ocb's own `go build`
 * gets it too; a go command ignores a flag it does not know): 6–14 % less CPU compiling Elasticsearch's typed API
 * cold, the largest package set of Jaeger's build. A GOFLAGS of the environment is kept before it.
 */
const GO_BUILD_ENV = {
  CGO_ENABLED: '0',
  GOFLAGS: [process.env.GOFLAGS, '-gcflags=all=-dwarf=false'].filter(Boolean).join(' '),
};
const GO_BUILD_FLAGS = ['-trimpath', '-ldflags=-s -w'];

export async function ensureBinaries(config: StackConfig, say: Say): Promise<Binaries> {
  const prometheus = ensurePrometheus(say);
  // Side by side (config.buildsInParallel), one build's module downloads and single-threaded link overlap another's
  // compiling (`npm run bench -- coldstart [--sequential]` compares). A failure is reported once all have ended.
  const builds = {
    s3: () =>
      ensureGoInstall(config, say, {
        component: 's3',
        name: 'gofakes3',
        module: 'github.com/johannesboyne/gofakes3/cmd/gofakes3',
        version: VERSIONS.gofakes3,
      }),
    sqs: () => ensureElasticMq(config, say),
    jaeger: () => ensureJaeger(config, say),
    // The local role's build (unless OBSERVATORY_COLLECTOR_BUILD says full): the full one waits until something starts
    // another role (ensureCollectorBuild).
    collector: () => ensureCollectorBuild(config, say, config.collectorBuild),
  };
  const [s3, sqs, jaeger, collector] = config.buildsInParallel
    ? await allSettledOrThrow([builds.s3(), builds.sqs(), builds.jaeger(), builds.collector()])
    : [await builds.s3(), await builds.sqs(), await builds.jaeger(), await builds.collector()];
  return { collector, jaeger, s3, prometheus, sqs };
}

/** Where the build's binary is (or will be) in the cache. */
export function collectorBinaryPath(config: StackConfig, build: CollectorBuild): string {
  return join(config.cacheDir, 'bin', collectorBuildKey(build, config.repoRoot), 'otelcol-observatory');
}

/** The binary that runs this role (stack/collector-roles.ts ROLE_BUILDS), built first if it is missing. */
export async function ensureCollectorFor(
  config: StackConfig,
  say: Say,
  role: CollectorRole,
): Promise<string> {
  return ensureCollectorBuild(config, say, ROLE_BUILDS[role]);
}

function ensurePrometheus(say: Say): string {
  const found = which('prometheus');
  if (found) return found;
  const aptGet = which('apt-get');
  if (!aptGet || process.getuid?.() !== 0) {
    throw new StackError(
      'prometheus',
      'Prometheus is not installed. Install it with your package manager (Debian: `apt-get install prometheus`) and run again.',
    );
  }
  say('prometheus: installing Debian package prometheus (apt-get)');
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'prometheus']]) {
    const result = spawnSync(aptGet, args, {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) {
      throw new StackError(
        'prometheus',
        `apt-get ${args.join(' ')} failed:\n${tail(result.stderr ?? '', 20)}`,
      );
    }
  }
  const installed = which('prometheus');
  if (!installed) throw new StackError('prometheus', 'apt-get installed prometheus but it is not on PATH');
  return installed;
}

interface GoInstall {
  component: string;
  name: string;
  module: string;
  version: string;
}

async function ensureGoInstall(config: StackConfig, say: Say, tool: GoInstall): Promise<string> {
  const dir = join(config.cacheDir, 'bin', `${tool.name}-${tool.version}`);
  const binary = join(dir, tool.name);
  if (existsSync(binary)) return binary;
  const go = requireGo(tool.component);
  const staging = `${dir}.partial`;
  mkdirSync(staging, { recursive: true });
  await runStep(
    config,
    say,
    tool.component,
    `go install ${tool.module}@${tool.version}`,
    go,
    // -v names each package as it is compiled: the progress line shows it.
    ['install', ...GO_BUILD_FLAGS, '-v', `${tool.module}@${tool.version}`],
    { cwd: staging, env: { ...GO_BUILD_ENV, GOBIN: staging } },
  );
  mkdirSync(dir, { recursive: true });
  renameSync(join(staging, tool.name), binary);
  return binary;
}

/** ElasticMQ's jars from Maven Central, assembled once into a class-path folder keyed by version. */
async function ensureElasticMq(config: StackConfig, say: Say): Promise<Binaries['sqs']> {
  const java = which('java');
  const mvn = which('mvn');
  if (!java || !mvn) {
    throw new StackError(
      'sqs',
      'Java 17+ and Maven are needed for the SQS-compatible queue server (ElasticMQ, from Maven Central). Install them (Debian: `apt-get install default-jdk-headless maven`) and run again.',
    );
  }
  const dir = join(config.cacheDir, 'bin', `elasticmq-${VERSIONS.elasticmq}`);
  const classpath = join(dir, 'lib', '*');
  const resolvedJava = realpathSync(java);
  if (existsSync(join(dir, '.complete'))) return { java: resolvedJava, classpath };
  const work = join(config.cacheDir, 'build', `elasticmq-${VERSIONS.elasticmq}`);
  mkdirSync(work, { recursive: true });
  writeFileSync(
    join(work, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>observatory.local</groupId><artifactId>elasticmq-classpath</artifactId><version>1</version><packaging>pom</packaging>
<dependencies><dependency><groupId>org.elasticmq</groupId><artifactId>elasticmq-server_2.13</artifactId><version>${VERSIONS.elasticmq}</version></dependency></dependencies>
</project>
`,
  );
  rmSync(join(work, 'lib'), { recursive: true, force: true });
  await runStep(
    config,
    say,
    'sqs',
    `mvn: ElasticMQ ${VERSIONS.elasticmq} and its dependencies`,
    mvn,
    [
      '-q',
      '-B',
      `-Dmaven.repo.local=${join(config.cacheDir, 'm2')}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${join(work, 'lib')}`,
      '-DincludeScope=runtime',
    ],
    { cwd: work },
  );
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  renameSync(join(work, 'lib'), join(dir, 'lib'));
  writeFileSync(join(dir, '.complete'), `${VERSIONS.elasticmq}\n`);
  return { java: resolvedJava, classpath };
}

/** `go install` refuses Jaeger's replace directive, so it is built from a small tools module. */
async function ensureJaeger(config: StackConfig, say: Say): Promise<string> {
  const dir = join(config.cacheDir, 'bin', `jaeger-${VERSIONS.jaeger}`);
  const binary = join(dir, 'jaeger');
  if (existsSync(binary)) return binary;
  const go = requireGo('jaeger');
  const work = join(config.cacheDir, 'build', `jaeger-${VERSIONS.jaeger}`);
  mkdirSync(work, { recursive: true });
  if (!existsSync(join(work, 'go.mod'))) {
    writeFileSync(join(work, 'go.mod'), 'module observatory.local/jaeger-tools\n\ngo 1.24\n');
  }
  const module = 'github.com/jaegertracing/jaeger/cmd/jaeger';
  await runStep(
    config,
    say,
    'jaeger',
    `go get -tool ${module}@${VERSIONS.jaeger}`,
    go,
    ['get', '-tool', `${module}@${VERSIONS.jaeger}`],
    { cwd: work, env: GO_BUILD_ENV },
  );
  const partial = join(work, 'jaeger.partial');
  await runStep(
    config,
    say,
    'jaeger',
    'go build (a few minutes on first run)',
    go,
    // -v names each package as it is compiled: the progress line shows it.
    ['build', ...GO_BUILD_FLAGS, '-v', '-o', partial, module],
    { cwd: work, env: GO_BUILD_ENV },
  );
  mkdirSync(dir, { recursive: true });
  renameSync(partial, binary);
  return binary;
}

/** Collector builds under way in this process, by binary path: two callers of one build share its run of ocb. */
const collectorBuilds = new Map<string, Promise<string>>();

/** One Collector build from its ocb manifest, once per manifest content. */
export async function ensureCollectorBuild(
  config: StackConfig,
  say: Say,
  build: CollectorBuild,
): Promise<string> {
  const binary = collectorBinaryPath(config, build);
  if (existsSync(binary)) return binary;
  const running =
    collectorBuilds.get(binary) ??
    buildCollector(config, say, build, binary).finally(() => collectorBuilds.delete(binary));
  collectorBuilds.set(binary, running);
  return running;
}

async function buildCollector(
  config: StackConfig,
  say: Say,
  build: CollectorBuild,
  binary: string,
): Promise<string> {
  requireGo('collector');
  const builder = await ensureGoInstall(config, say, {
    component: 'collector',
    name: 'builder',
    module: 'go.opentelemetry.io/collector/cmd/builder',
    version: VERSIONS.ocb,
  });
  const work = join(config.cacheDir, 'build', collectorBuildKey(build, config.repoRoot));
  mkdirSync(work, { recursive: true });
  const manifestFile = collectorManifestFile(build, config.repoRoot);
  const manifest = parseDocument(readFileSync(manifestFile, 'utf8'));
  manifest.setIn(['dist', 'output_path'], join(work, 'src'));
  // Our own components' `path`, relative to the manifest in the repository, made absolute: ocb resolves it against
  // its working folder, which is the cache's.
  for (const kind of ['receivers', 'processors', 'exporters', 'connectors', 'extensions'])
    (manifest.getIn([kind]) as { items?: unknown[] } | undefined)?.items?.forEach((_, index) => {
      const path = manifest.getIn([kind, index, 'path']);
      if (typeof path === 'string')
        manifest.setIn([kind, index, 'path'], resolve(dirname(manifestFile), path));
    });
  writeFileSync(join(work, 'manifest.yaml'), manifest.toString());
  await runStep(
    config,
    say,
    'collector',
    `ocb: the ${build} build (${COLLECTOR_BUILDS[build]}): generate, fetch modules and compile (several minutes on first run)`,
    builder,
    // ocb itself builds with -trimpath, `-ldflags=-s -w` and CGO_ENABLED=0 (its dist.cgo_enabled is false).
    ['--config', join(work, 'manifest.yaml')],
    { cwd: work, env: GO_BUILD_ENV },
  );
  mkdirSync(join(binary, '..'), { recursive: true });
  renameSync(join(work, 'src', 'otelcol-observatory'), binary);
  return binary;
}

function requireGo(component: string): string {
  const go = which('go');
  if (!go) {
    throw new StackError(
      component,
      'Go is not installed: the stack builds the Collector, Jaeger and the S3 store from the Go module proxy. Install Go 1.24 or newer (https://go.dev/doc/install) and run again.',
    );
  }
  return go;
}

/** How often a running build step prints its elapsed time and what it is doing (a line every 10 s at least). */
export const BUILD_PROGRESS_INTERVAL_MS = 10_000;

/**
 * Runs one build step with its output in a log file, printing every `progressMs` the elapsed time and the step's
 * latest output line (the package `go build -v` compiles, the stage ocb is at), so that a long build never looks hung.
 */
export async function runStep(
  config: Pick<StackConfig, 'cacheDir'>,
  say: Say,
  component: string,
  step: string,
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; progressMs?: number },
): Promise<void> {
  const logDir = join(config.cacheDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `build-${component}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const started = Date.now();
  const elapsed = () => formatDuration(Date.now() - started);
  let latest = '';
  const remember = (chunk: Buffer) => {
    const line = lastActivity(chunk.toString());
    if (line) latest = line;
  };
  say(`${component}: ${step}`);
  const ticker = setInterval(
    () => say(`${component}: ${step} … ${elapsed()}${latest ? ` (${latest})` : ''}`),
    options.progressMs ?? BUILD_PROGRESS_INTERVAL_MS,
  );
  try {
    const code = await new Promise<number | null>((resolvePromise, reject) => {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: { ...process.env, GONOSUMDB: UNVERIFIED_GO_MODULES.join(','), ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      for (const stream of [child.stdout, child.stderr]) {
        stream.on('data', remember);
        stream.pipe(log, { end: false });
      }
      child.on('error', reject);
      child.on('close', resolvePromise);
    });
    // The log is written through a buffer: flushed before it is read (or the failure would quote nothing).
    await new Promise<void>((resolveEnd) => log.end(resolveEnd));
    if (code !== 0) {
      const output = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      throw new StackError(
        component,
        `${step} failed (exit ${code}); last lines of ${logFile}:\n${tail(output, 25)}`,
      );
    }
    say(`${component}: ${step} done in ${elapsed()}`);
  } finally {
    clearInterval(ticker);
    if (!log.writableEnded) log.end();
  }
}

/**
 * The last non-empty line of a chunk of build output, uncoloured and shortened for a progress line: a log line of ocb's (timestamp,
 * level, caller, message, fields, tab-separated) reads as its message.
 */
export function lastActivity(chunk: string): string | undefined {
  const line = chunk
    .split('\n')
    // Maven colours its output even into a pipe.
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim())
    .filter(Boolean)
    .at(-1);
  if (line === undefined) return undefined;
  const fields = line.split('\t');
  const text = fields.length >= 4 && /^\d{4}-\d\d-\d\dT/.test(fields[0]!) ? fields[3]! : line;
  return text.length > 100 ? `…${text.slice(-99)}` : text;
}

export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60
    ? `${seconds}s`
    : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
