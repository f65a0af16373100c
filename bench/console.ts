/**
 * The console's memory under lake queries: `observatory ui` in a child process of its own, its resident memory idle
 * and its peak (the kernel's VmHWM) after each query of the list — results of millions of rows, which the console
 * must answer with its row cap without holding them. `--repo` runs the console of another checkout (e.g. an older
 * commit unpacked with `git archive`, its node_modules linked) for a before/after. Needs the stack (the query syncs the
 * lake's cache from the S3 store first).
 *
 *   node bench/console.ts [--rows 3000000,30000000] [--repo <checkout>]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../common/paths.ts';
import { failedFigure, printFigures, type Figure } from './report.ts';

/** VmRSS and VmHWM of a process, in MiB. */
function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function startConsole(repo: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [join(repo, 'cli', 'bin.js'), 'ui', '--port', String(await freePort())],
    {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const url = await new Promise<string>((done, fail) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const found = /Observatory console: (http:\/\/\S+)/.exec(output)?.[1];
      if (found) done(found);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => fail(new Error(`observatory ui exited ${code}: ${output}`)));
  });
  return { child, url };
}

/** One query through the API as the lake page sends it; the answer's row count and whether it was cut. */
async function query(
  url: string,
  sql: string,
): Promise<{ status: number; rows: number; truncated: boolean }> {
  const response = await fetch(`${url}/api/lake/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sql }),
  });
  const body = (await response.json()) as { rows?: unknown[]; truncated?: boolean; error?: string };
  if (response.status !== 200) throw new Error(`the console answered ${response.status}: ${body.error}`);
  return { status: response.status, rows: body.rows?.length ?? 0, truncated: body.truncated ?? false };
}

async function measure(repo: string, rowCounts: number[]): Promise<Figure[]> {
  const { child, url } = await startConsole(repo);
  const figures: Figure[] = [];
  try {
    // A first query loads DuckDB and syncs the cache: the idle figure is the console ready to answer.
    await query(url, 'SELECT 1 AS warm');
    const idle = memoryOf(child.pid!);
    console.log(`  idle after a first query: RSS ${idle.rssMb.toFixed(0)} MiB`);
    figures.push({
      id: 'console.idle',
      figure: 'Console RSS, ready',
      ours: idle.rssMb,
      unit: 'MiB',
      better: 'lower',
    });
    for (const rows of rowCounts) {
      const id = `console.peak.${rows}`;
      const what = `Console peak RSS after a ${rows.toLocaleString('en-US')}-row result`;
      const started = performance.now();
      try {
        const answer = await query(url, `SELECT range AS i, repeat('x', 100) AS s FROM range(${rows})`);
        const seconds = (performance.now() - started) / 1000;
        const after = memoryOf(child.pid!);
        console.log(
          `  ${rows.toLocaleString('en-US')} rows: answered ${answer.rows} (truncated ${answer.truncated}) in ` +
            `${seconds.toFixed(2)} s; peak RSS ${after.peakMb.toFixed(0)} MiB, RSS after ${after.rssMb.toFixed(0)} MiB`,
        );
        figures.push({
          id,
          figure: what,
          ours: after.peakMb,
          unit: 'MiB',
          better: 'lower',
          note: `${answer.rows} rows answered in ${seconds.toFixed(2)} s`,
        });
      } catch (error) {
        console.log(`  ${rows} rows: failed: ${(error as Error).message}`);
        figures.push(failedFigure(id, what, error));
      }
    }
  } finally {
    child.kill('SIGTERM');
  }
  return figures;
}

export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string', default: '3000000,30000000' },
      repo: { type: 'string', default: REPO_ROOT },
    },
  });
  const repo = resolve(values.repo);
  const rowCounts = values.rows.split(',').map(Number);
  console.log(`observatory ui from ${repo}, lake queries of ${values.rows} rows (each row ≈ 110 bytes):`);
  const figures = await measure(repo, rowCounts);
  printFigures(figures);
  return figures;
}

if (import.meta.main) await cli();
