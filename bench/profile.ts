/**
 * Where the preload's time goes: the bench's Express app under `--require ./instrumentation` (or uninstrumented),
 * loaded by autocannon after a warm-up, profiled with `--cpu-prof` over the measured window only (the profile is
 * started and stopped around it through the inspector), then its top self-time frames printed. The telemetry goes to
 * a discarding OTLP sink by default (bench/lib/discard-sink.ts: the preload's own cost, as issue 24 measures it);
 * `--sink stack` exports to the local stack instead (`npx observatory stack up` first).
 *
 *   npm run bench -- profile [--seconds 10] [--warmup 6] [--connections 16] [--top 10] [--plain] [--out file]
 *                            [--sink discard|stack] [--env NAME=value]… [--preload ./instrumentation]
 *
 * `--preload` profiles another preload (an earlier commit's `instrumentation/`, extracted with `git archive`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { STATE_ROOT } from '../common/paths.ts';
import { selfTime, selfTimeByOwner } from './lib/cpu-profile.ts';
import { startDiscardSink } from './lib/discard-sink.ts';
import { appUrl, startApp } from './lib/fixture-app.ts';
import type { Figure } from './report.ts';

export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '6' },
      connections: { type: 'string', default: '16' },
      top: { type: 'string', default: '10' },
      plain: { type: 'boolean', default: false },
      preload: { type: 'string', default: './instrumentation' },
      out: { type: 'string' },
      sink: { type: 'string', default: 'discard' },
      env: { type: 'string', multiple: true, default: [] },
    },
  });
  const dir = join(STATE_ROOT, 'bench', 'profiles');
  mkdirSync(dir, { recursive: true });
  const file = values.out ?? join(dir, `${values.plain ? 'plain' : 'preload'}-${Date.now()}.cpuprofile`);
  if (values.sink !== 'discard' && values.sink !== 'stack')
    throw new Error(`--sink ${values.sink}: discard or stack`);
  const sink = values.sink === 'discard' ? await startDiscardSink() : undefined;
  const exportTo = sink
    ? {
        ...Object.fromEntries(
          Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_EXPORTER_OTLP_')),
        ),
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      }
    : process.env;
  const extra = Object.fromEntries(
    values.env.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  const { child, port } = await startApp(
    values.plain ? [] : ['--require', values.preload],
    { ...exportTo, ...extra, OTEL_SERVICE_NAME: 'bench-app', BENCH_PROFILE_FILE: file },
    true,
  );
  const url = appUrl(port);
  const connections = Number(values.connections);
  await autocannon({ url, connections, duration: Number(values.warmup) });
  const ask = (message: string) =>
    new Promise<void>((resolve) => {
      child.once('message', () => resolve());
      child.send(message);
    });
  await ask('profile-start');
  const result = await autocannon({ url, connections, duration: Number(values.seconds) });
  await ask('profile-stop');
  child.kill('SIGKILL');
  await sink?.close();
  const { totalMs, frames } = selfTime(file, Number(values.top));
  process.stdout.write(
    `${values.plain ? 'uninstrumented' : 'preload'}: ${result.requests.average.toFixed(0)} req/s; ${result.requests.total} requests, ` +
      `${(totalMs / 1000).toFixed(1)} s profiled (${file})\n\n| self time | share | frame |\n| --- | --- | --- |\n`,
  );
  for (const f of frames)
    process.stdout.write(`| ${f.selfMs.toFixed(0)} ms | ${f.share.toFixed(1)} % | \`${f.frame}\` |\n`);
  process.stdout.write(
    '\n| self time | share | package (with the Node internals and natives it called) |\n| --- | --- | --- |\n',
  );
  for (const f of selfTimeByOwner(file, Number(values.top)).owners)
    process.stdout.write(`| ${f.selfMs.toFixed(0)} ms | ${f.share.toFixed(1)} % | \`${f.frame}\` |\n`);
  // Its table is of frames, not of figures with targets: nothing for the full run's table.
  return [];
}

if (import.meta.main) await cli();
