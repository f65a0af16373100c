/**
 * From template to service, on each framework the scaffold offers: `observatory new service --framework F` into a
 * temporary folder outside this repository, `npm
 * install`, the generated test passes, `npm start` runs it with the preload, and its first request is in Jaeger
 * under the trace ID of the `traceresponse` header, with the service information from the generated `.env`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../common/paths.ts';
import { fetchTrace, tag } from '../../support/backends.ts';
import { FRAMEWORK_NAMES } from '../../../cli/new/frameworks.ts';
import { npmInstall, npmRun, tempFolder } from '../../support/team.ts';

describe.each(FRAMEWORK_NAMES)('A service from `observatory new service --framework %s`', (framework) => {
  const work = tempFolder(`new-service-${framework}`);
  const name = `scaffold-${framework}-${randomBytes(4).toString('hex')}`;
  const dir = join(work.dir, name);
  afterAll(() => work.remove());

  beforeAll(() => {
    const created = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'cli', 'bin.js'), 'new', 'service', name, '--framework', framework, '--json'],
      { cwd: work.dir, encoding: 'utf8' },
    );
    if (created.status !== 0) throw new Error(`observatory new service failed: ${created.stderr}`);
    npmInstall(dir);
  }, 600_000);

  it('passes its own generated test', () => {
    const run = npmRun(dir, 'test');
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain('GET /hello/:who greets and tracks one greeting_sent event');
  });

  it('type-checks its track() call against its own event schema', () => {
    const run = npmRun(dir, 'typecheck');
    expect(run.status, run.output).toBe(0);
  });

  it('shows up in Jaeger on its first request, found by the traceresponse ID', async () => {
    // `npm start` as a user runs it, in its own process group so that the whole group can be stopped.
    const child = spawn('npm', ['start'], {
      cwd: dir,
      env: {
        ...process.env,
        PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
        PORT: '0',
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let output = '';
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no LISTENING line in 60 s; output: ${output}`)),
          60_000,
        );
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          const match = output.match(/LISTENING (\d+)/);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        };
        child.stdout!.on('data', read);
        child.stderr!.on('data', read);
      });
      const response = await fetch(`http://127.0.0.1:${port}/hello/ada`);
      expect(response.status).toBe(200);
      const [, traceId, spanId] =
        (response.headers.get('traceresponse') ?? '').match(/^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/) ?? [];
      expect(traceId, 'a traceresponse header').toBeDefined();

      const trace = await fetchTrace(traceId!);
      const server = trace.spans.find((s) => s.spanID === spanId)!;
      expect(tag(server, 'http.route')).toBe('/hello/:who');
      const resource = trace.processes[server.processID]!;
      expect(resource.serviceName).toBe(name);
      expect(Object.fromEntries(resource.tags.map((t) => [t.key, t.value]))).toMatchObject({
        'service.version': '0.1.0',
        'deployment.environment.name': 'local',
      });
      // Every log line carries the same trace ID and the service information.
      const line = output.split('\n').find((l) => l.includes('"msg":"greeting"'));
      expect(JSON.parse(line!)).toMatchObject({ trace_id: traceId, 'service.name': name });
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
  });
});
