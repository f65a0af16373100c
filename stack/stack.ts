/**
 * `observatory stack up | down | status | logs`: runs the stack's components as local processes.
 * Each started process gets a pid file recording its pid and binary; `down` signals exactly those processes, after
 * checking that the pid still runs that binary (pids are reused), and never looks processes up by name.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { allSettledOrThrow } from '../common/async.ts';
import { pollUntil, PollTimeoutError, sleep } from '../common/poll.ts';
import { ensureBinaries, ensureCollectorBuild, formatDuration, type Binaries } from './build.ts';
import {
  COMPONENT_NEEDS,
  COMPONENT_ORDER,
  componentSpecs,
  type ComponentName,
  type ComponentSpec,
} from './components.ts';
import { stackConfig, type StackConfig } from './config.ts';
import { StackError } from './errors.ts';

export interface PidRecord {
  pid: number;
  binary: string;
  startedAt: string;
}

export interface ComponentStatus {
  name: ComponentName;
  description: string;
  pid: number | null;
  running: boolean;
  healthy: boolean;
  port: number;
  endpoints: Record<string, string>;
  log: string;
}

export interface StackStatus {
  stateDir: string;
  healthy: boolean;
  components: ComponentStatus[];
  s3: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string };
}

type Say = (line: string) => void;

export class Stack {
  readonly config: StackConfig;
  private readonly say: Say;

  constructor(options: { config?: StackConfig; say?: Say } = {}) {
    this.config = options.config ?? stackConfig();
    this.say = options.say ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** Builds or installs whatever binary is missing; with `all`, the full Collector build too (ROLE_BUILDS). */
  async build(options: { all?: boolean } = {}): Promise<Binaries> {
    const binaries = await ensureBinaries(this.config, this.say);
    if (options.all) await ensureCollectorBuild(this.config, this.say, 'full');
    return binaries;
  }

  /** Builds what is missing, then starts every component that is not already running and healthy. */
  async up(only?: ComponentName[]): Promise<StackStatus> {
    const started = Date.now();
    const binaries = await ensureBinaries(this.config, this.say);
    for (const dir of ['run', 'logs', 'data'])
      mkdirSync(join(this.config.stateDir, dir), { recursive: true });
    const specs = this.specs(binaries).filter((spec) => !only || only.includes(spec.name));
    // Side by side, each once what it sends to listens (COMPONENT_NEEDS): the queue server's JVM, the slowest to
    // start, holds nothing up.
    const starting = new Map<ComponentName, Promise<void>>();
    const start = async (spec: ComponentSpec) => {
      await Promise.all(COMPONENT_NEEDS[spec.name].map((name) => starting.get(name)));
      await this.startComponent(spec);
    };
    for (const spec of specs) starting.set(spec.name, start(spec));
    await allSettledOrThrow([...starting.values()]);
    this.say(`stack: up in ${formatDuration(Date.now() - started)}`);
    return this.status();
  }

  /** Stops the processes this stack started (newest first), or only the components named, and removes their pid files. */
  async down(only?: ComponentName[]): Promise<ComponentName[]> {
    const stopped: ComponentName[] = [];
    for (const name of [...COMPONENT_ORDER].reverse()) {
      if (only && !only.includes(name)) continue;
      const record = this.readPid(name);
      if (!record) continue;
      if (ownsProcess(record)) {
        await terminate(record.pid, 10_000);
        stopped.push(name);
        this.say(`${name}: stopped (pid ${record.pid})`);
      }
      rmSync(this.pidFile(name), { force: true });
    }
    return stopped;
  }

  async status(): Promise<StackStatus> {
    const specs = this.specs(this.knownBinaries());
    const components = await Promise.all(
      specs.map(async (spec): Promise<ComponentStatus> => {
        const record = this.readPid(spec.name);
        const running = record !== undefined && ownsProcess(record);
        return {
          name: spec.name,
          description: spec.description,
          pid: running ? record.pid : null,
          running,
          healthy: running && (await isHealthy(spec.healthUrl, 2_000)),
          port: spec.port,
          endpoints: spec.endpoints,
          log: this.logFile(spec.name),
        };
      }),
    );
    const { s3 } = this.config;
    return {
      stateDir: this.config.stateDir,
      healthy: components.every((c) => c.healthy),
      components,
      s3: {
        endpoint: `http://127.0.0.1:${s3.port}`,
        bucket: s3.bucket,
        region: s3.region,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
      },
    };
  }

  logFile(name: ComponentName): string {
    return join(this.config.stateDir, 'logs', `${name}.log`);
  }

  private specs(binaries: Binaries): ComponentSpec[] {
    return componentSpecs(this.config, binaries);
  }

  /** Binaries as recorded in pid files, for `status` without building anything. */
  private knownBinaries(): Binaries {
    const binary = (name: ComponentName) => this.readPid(name)?.binary ?? name;
    return {
      s3: binary('s3'),
      sqs: { java: binary('sqs'), classpath: '' },
      jaeger: binary('jaeger'),
      prometheus: binary('prometheus'),
      collector: binary('collector'),
    };
  }

  private async startComponent(spec: ComponentSpec): Promise<void> {
    const existing = this.readPid(spec.name);
    if (existing && ownsProcess(existing)) {
      if (existing.binary !== spec.binary) {
        this.say(`${spec.name}: running an older binary (pid ${existing.pid}); restarting`);
        await terminate(existing.pid, 10_000);
      } else {
        await this.waitHealthy(spec, existing.pid);
        this.say(`${spec.name}: already running (pid ${existing.pid})`);
        return;
      }
    }
    rmSync(this.pidFile(spec.name), { force: true });
    for (const port of spec.ports) {
      if (await isListening(port)) {
        throw new StackError(
          spec.name,
          `port ${port} on 127.0.0.1 is already in use by a process this stack did not start; stop it or choose other ports (see the configuration table in the README)`,
        );
      }
    }
    spec.prepare?.();
    const logFile = this.logFile(spec.name);
    const fd = openSync(logFile, 'a');
    const child = spawn(spec.binary, spec.args, {
      cwd: this.config.stateDir,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const pid = await new Promise<number>((resolvePid, reject) => {
      child.once('error', (error) =>
        reject(new StackError(spec.name, `could not start ${spec.binary}: ${error.message}`)),
      );
      child.once('spawn', () => resolvePid(child.pid!));
    });
    child.unref();
    const record: PidRecord = { pid, binary: spec.binary, startedAt: new Date().toISOString() };
    writeFileSync(this.pidFile(spec.name), `${JSON.stringify(record)}\n`);
    const began = Date.now();
    await this.waitHealthy(spec, pid);
    this.say(
      `${spec.name}: healthy in ${formatDuration(Date.now() - began)} (pid ${pid}, ${spec.healthUrl})`,
    );
  }

  private async waitHealthy(spec: ComponentSpec, pid: number): Promise<void> {
    let outcome: 'healthy' | 'exited';
    try {
      outcome = await pollUntil(
        `${spec.name} to answer 2xx at ${spec.healthUrl}`,
        async () =>
          (await isHealthy(spec.healthUrl, 1_000)) ? 'healthy' : isAlive(pid) ? undefined : 'exited',
        { timeoutMs: this.config.startTimeoutMs, intervalMs: 250 },
      );
    } catch (error) {
      if (!(error instanceof PollTimeoutError)) throw error;
      throw new StackError(
        spec.name,
        `not healthy after ${formatDuration(this.config.startTimeoutMs)}: waited for ${spec.healthUrl} to answer 2xx. Log: ${this.logFile(spec.name)}`,
      );
    }
    if (outcome === 'exited') {
      rmSync(this.pidFile(spec.name), { force: true });
      throw new StackError(
        spec.name,
        `exited while starting; waited for ${spec.healthUrl}. Last lines of ${this.logFile(spec.name)}:\n${lastLines(this.logFile(spec.name), 15)}`,
      );
    }
  }

  private pidFile(name: ComponentName): string {
    return join(this.config.stateDir, 'run', `${name}.pid`);
  }

  private readPid(name: ComponentName): PidRecord | undefined {
    const file = this.pidFile(name);
    if (!existsSync(file)) return undefined;
    try {
      const record = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
      return Number.isInteger(record.pid) && typeof record.binary === 'string' ? record : undefined;
    } catch {
      return undefined;
    }
  }
}

/** True when the pid is alive and still runs the binary we started (pids are reused after a process ends). */
function ownsProcess(record: PidRecord): boolean {
  if (!isAlive(record.pid)) return false;
  try {
    // A binary replaced or removed while it runs reads as "<path> (deleted)"; it is still the process we started.
    return readlinkSync(`/proc/${record.pid}/exe`).replace(/ \(deleted\)$/, '') === record.binary;
  } catch {
    // No /proc (not Linux): trust the live pid.
    return existsSync('/proc') ? false : true;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers signal 0; it is not running.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function terminate(pid: number, graceMs: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  try {
    await pollUntil(`pid ${pid} to exit`, async () => (isAlive(pid) ? undefined : true), {
      timeoutMs: graceMs,
      intervalMs: 100,
    });
    return;
  } catch (error) {
    if (!(error instanceof PollTimeoutError)) throw error;
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  // SIGKILL cannot be refused: wait as long as the kernel takes.
  while (isAlive(pid)) await sleep(50);
}

async function isHealthy(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolveListening) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolveListening(true);
    });
    socket.once('error', () => resolveListening(false));
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolveListening(false);
    });
  });
}

function lastLines(file: string, count: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
}
