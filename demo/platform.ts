/**
 * Runs the demo platform: starts each service and the ETL listener as its own process under
 * the preload (`node --require ./instrumentation services/<name>/main.ts`): all at once on the configured ports (the
 * demo), downstream first on free ports (port 0, the tests), so that the gateway knows their addresses. The catalog
 * seeds the store; the listener starts its worker sandboxes itself. Each process gets the demo's memory settings
 * (`DemoRuntime`: V8's young generation, glibc's arenas, how many worker sandboxes and how long they stay warm), and
 * runs its code and the preload built to JavaScript (common/js-build.ts), as a team's services run theirs: Node's
 * type stripping would keep ≈ 18 MiB resident in each (issue 24). Without a build (esbuild not installed, or the
 * build failed: said once on stderr), or with `OBSERVATORY_DEMO_JS_BUILD=false`, they run the TypeScript sources.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { jsBuildOrSources } from '../common/js-build.ts';
import { REPO_ROOT } from '../stack/config.ts';
import { demoConfig, type DemoRuntime, type ServiceName } from '../services/config.ts';
import { etlConfig } from '../etl/config.ts';

export interface PlatformOptions {
  /** Use free ports instead of the configured ones. @default false */
  freePorts?: boolean;
  /**
   * Extra environment for every service (fault knobs, OTEL_* settings). The platform honours the fault header
   * (OBSERVATORY_DEMO_FAULT_HEADER=true) unless this or the environment says otherwise.
   */
  env?: Record<string, string>;
  /** Where service logs go. @default .observatory/demo/logs */
  logDir?: string;
}

export interface Platform {
  urls: Record<ServiceName | 'etl', string>;
  logDir: string;
  /** The process ids of the services and the listener (benchmarks read their CPU and memory). */
  pids: number[];
  stop(): Promise<void>;
}

/**
 * How long a service may take to listen. Generous on purpose: each loads the SDK and the AWS SDK, which takes seconds
 * of wall time on a busy 2-core machine.
 */
const LISTEN_TIMEOUT_MS = 90_000;

const DOWNSTREAM: ServiceName[] = ['catalog', 'downloads', 'users'];

export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const env: Record<string, string | undefined> = {
    OBSERVATORY_DEMO_FAULT_HEADER: 'true',
    ...process.env,
    ...options.env,
  };
  const config = demoConfig(env);
  const runtime = config.runtime;
  const logDir = options.logDir ?? join(REPO_ROOT, '.observatory', 'demo', 'logs');
  mkdirSync(logDir, { recursive: true });
  const children: ChildProcess[] = [];
  const urls = {} as Record<ServiceName | 'etl', string>;
  const files = runtime.jsBuild ? await platformFiles() : SOURCES;
  const stop = async () => {
    await Promise.all(children.map((child) => stopChild(child)));
  };
  try {
    const portOf = (name: ServiceName) => (options.freePorts ? '0' : String(config.ports[name]));
    // The gateway needs the others' addresses: known from the start on configured ports, so it starts beside them
    // (one service start less to wait for); on free ports, once they have said where they listen.
    const gatewayEnv = (known: Record<ServiceName | 'etl', string>): Record<string, string | undefined> => {
      const gateway: Record<string, string | undefined> = {
        ...env,
        OBSERVATORY_GATEWAY_PORT: portOf('gateway'),
      };
      for (const name of DOWNSTREAM) gateway[`OBSERVATORY_${name.toUpperCase()}_URL`] = known[name];
      gateway.OBSERVATORY_ETL_URL = known.etl;
      return gateway;
    };
    const etlPort = options.freePorts ? '0' : String(etlConfig(env).port);
    const local = (port: string | number) => `http://127.0.0.1:${port}`;
    const fixed = [...DOWNSTREAM.map(portOf), etlPort].every((port) => port !== '0');
    const early = fixed
      ? startService(
          'gateway',
          gatewayEnv({
            ...config.urls,
            ...Object.fromEntries(DOWNSTREAM.map((name) => [name, local(portOf(name))])),
            etl: config.externalEtl ? config.urls.etl : local(etlPort),
          }),
          { logDir, children, runtime, files },
        )
      : undefined;
    // Awaited below, after the others: a failure meanwhile must not count as unhandled.
    early?.catch(() => {});
    // The listener is skipped when OBSERVATORY_ETL_URL points at one running elsewhere.
    const [etl, ...started] = await Promise.all([
      config.externalEtl
        ? Promise.resolve(0)
        : startService(
            'etl',
            { ...sandboxEnvironment(runtime, env), OBSERVATORY_ETL_PORT: etlPort },
            { logDir, children, runtime, files },
          ),
      ...DOWNSTREAM.map((name) =>
        startService(
          name,
          { ...env, [`OBSERVATORY_${name.toUpperCase()}_PORT`]: portOf(name) },
          { logDir, children, runtime, files },
        ),
      ),
    ]);
    urls.etl = config.externalEtl ? config.urls.etl : local(etl);
    DOWNSTREAM.forEach((name, i) => (urls[name] = local(started[i]!)));
    urls.gateway = local(
      await (early ?? startService('gateway', gatewayEnv(urls), { logDir, children, runtime, files })),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls, logDir, pids: children.map((child) => child.pid!), stop };
}

const ENTRY: Record<ServiceName | 'etl', { script: string; serviceName: string }> = {
  gateway: { script: 'services/gateway/main.ts', serviceName: 'gateway' },
  catalog: { script: 'services/catalog/main.ts', serviceName: 'catalog' },
  downloads: { script: 'services/downloads/main.ts', serviceName: 'downloads' },
  users: { script: 'services/users/main.ts', serviceName: 'users' },
  etl: { script: 'etl/listener/main.ts', serviceName: 'etl-listener' },
};

/** What a process runs: the preload for `--require` and each entry's main module. */
export interface PlatformFiles {
  preload: string;
  scripts: Record<ServiceName | 'etl', string>;
}

const SOURCES: PlatformFiles = {
  preload: './instrumentation',
  scripts: Object.fromEntries(
    Object.entries(ENTRY).map(([name, { script }]) => [name, script]),
  ) as PlatformFiles['scripts'],
};

/**
 * The services, the listener and the preload built together (one copy of each shared module, the preload's SDK
 * among them: a service's `logger` and `track` reach the SDK the preload started), each built entry named after its
 * service (`<build>/catalog.mjs`, `<build>/etl-listener.mjs`). The sources when there is no build. Never rejects.
 */
export async function platformFiles(): Promise<PlatformFiles> {
  const built = await jsBuildOrSources(
    {
      entries: {
        preload: 'instrumentation/index.js',
        ...Object.fromEntries(Object.values(ENTRY).map(({ script, serviceName }) => [serviceName, script])),
      },
      // Constants only; the incubating entry alone is ≈ 7 MiB loaded whole.
      inline: ['@opentelemetry/semantic-conventions'],
    },
    "the demo's services",
  );
  if (!built) return SOURCES;
  const scripts = Object.fromEntries(
    Object.entries(ENTRY).map(([name, { serviceName }]) => [name, built[serviceName]!]),
  ) as PlatformFiles['scripts'];
  return { preload: built.preload!, scripts };
}

/**
 * The listener's environment: the demo's number of worker sandboxes and their idle lifetime, unless the ETL's own
 * variables say otherwise.
 */
function sandboxEnvironment(
  runtime: DemoRuntime,
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  return {
    OBSERVATORY_ETL_CONCURRENCY: String(runtime.workerSandboxes),
    OBSERVATORY_ETL_IDLE_MS: String(runtime.workerIdleMs),
    ...withoutEmpty(env),
  };
}

/** The Node flags and variables that apply the demo's memory settings to one process (0: the runtime's default). */
function runtimeOf(runtime: DemoRuntime): { flags: string[]; env: Record<string, string> } {
  return {
    flags: runtime.semiSpaceMb > 0 ? [`--max-semi-space-size=${runtime.semiSpaceMb}`] : [],
    env: runtime.mallocArenas > 0 ? { MALLOC_ARENA_MAX: String(runtime.mallocArenas) } : {},
  };
}

const withoutEmpty = (env: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));

async function startService(
  name: ServiceName | 'etl',
  env: Record<string, string | undefined>,
  {
    logDir,
    children,
    runtime,
    files,
  }: { logDir: string; children: ChildProcess[]; runtime: DemoRuntime; files: PlatformFiles },
): Promise<number> {
  const { flags, env: runtimeEnv } = runtimeOf(runtime);
  const child = spawn(process.execPath, [...flags, '--require', files.preload, files.scripts[name]], {
    cwd: REPO_ROOT,
    env: {
      OTEL_SERVICE_NAME: ENTRY[name].serviceName,
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
      ...runtimeEnv,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  child.stderr!.pipe(log);
  return new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      buffered += chunk.toString();
      const match = buffered.match(/^LISTENING (\d+)$/m);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) =>
      reject(new Error(`${name} exited (code ${code}) before listening; see ${join(logDir, `${name}.log`)}`)),
    );
    setTimeout(
      () =>
        reject(
          new Error(
            `${name} did not listen within ${LISTEN_TIMEOUT_MS / 1000} s; see ${join(logDir, `${name}.log`)}`,
          ),
        ),
      LISTEN_TIMEOUT_MS,
    ).unref();
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
  await exited;
  clearTimeout(timer);
}
