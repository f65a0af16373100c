/**
 * The `observatory` command line: one entry, one sub-command per part (demo, load, stack, lake, trace); each part
 * owns its command code, this file only routes and prints usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { demoConfig } from '../services/config.ts';
import { demo } from './demo/demo.ts';
import { LAKE_USAGE, lakeCommand } from './lake/index.ts';
import { TRACE_USAGE, traceCommand } from './trace/index.ts';
import { UI_USAGE, uiCommand } from './ui/index.ts';
import { DEFAULT_MIX, formatReport, parseMix, runLoad } from './load/load.ts';
import { COMPONENT_ORDER, type ComponentName } from './stack/components.ts';
import { StackError } from './stack/errors.ts';
import { Stack, type StackStatus } from './stack/stack.ts';

/** The command lines of a sub-command's usage text, with their indented continuation lines. */
function usageLines(usage: string, prefix: string): string {
  const lines = usage.split('\n');
  const start = lines.findIndex((line) => line.startsWith(prefix));
  const end = lines.findIndex((line, i) => i > start && line.trim() === '');
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

const USAGE = `usage: observatory <command>

  demo [--duration S] [--rate R]
                               the main job: stack, services, load; prints where to look (Ctrl-C stops)
  load [--url U] [--rate R] [--duration S] [--mix search=70,download=22,signup=5,job=3] [--fault-rate F]
                               drive the gateway with a realistic mix; prints latency and sample trace IDs
  stack build                  build or install the stack's binaries (cached outside the clone)
  stack up [component…]        build what is missing and start the local stack (idempotent)
  stack down                   stop every process the stack started
  stack status [--json]        each component: pid, port, health, endpoints
  stack logs [component] [-n N]  the last N (default 50) lines of a component's log
${usageLines(LAKE_USAGE, '  lake')}
${usageLines(TRACE_USAGE, '  trace')}
${usageLines(UI_USAGE, '  ui')}
`;

/** Errors of usage: printed with the usage, exit code 2. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'stack') return stackCommand(sub, rest);
  if (command === 'demo') return demoCommand(argv.slice(1));
  if (command === 'load') return loadCommand(argv.slice(1));
  if (command === 'lake') return lakeCommand(argv.slice(1));
  if (command === 'trace') return traceCommand(argv.slice(1));
  if (command === 'ui') return uiCommand(argv.slice(1));
  throw new UsageError(`unknown command ${JSON.stringify(command)}`);
}

async function stackCommand(sub: string | undefined, args: string[]): Promise<number> {
  const stack = new Stack();
  switch (sub) {
    case 'up': {
      const status = await stack.up(args.length > 0 ? args.map(componentName) : undefined);
      printStatus(status);
      return status.healthy || args.length > 0 ? 0 : 1;
    }
    case 'build':
      await stack.build();
      return 0;
    case 'down':
      await stack.down();
      return 0;
    case 'status': {
      const status = await stack.status();
      if (args.includes('--json')) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      else printStatus(status);
      return status.healthy ? 0 : 1;
    }
    case 'logs': {
      let count = 50;
      const names: string[] = [];
      for (let i = 0; i < args.length; i++) {
        if (args[i] === '-n') count = Number(args[++i]);
        else names.push(args[i]!);
      }
      if (!Number.isInteger(count) || count <= 0) throw new UsageError('-n takes a positive whole number');
      const selected = names.length > 0 ? names.map(componentName) : [...COMPONENT_ORDER];
      for (const name of selected) {
        const file = stack.logFile(name);
        process.stdout.write(`==> ${name} (${file}) <==\n`);
        let text = '';
        try {
          text = readFileSync(file, 'utf8');
        } catch {
          text = '(no log yet)\n';
        }
        process.stdout.write(`${text.trimEnd().split('\n').slice(-count).join('\n')}\n`);
      }
      return 0;
    }
    default:
      throw new UsageError(
        sub === undefined ? 'stack needs a sub-command' : `unknown stack sub-command ${JSON.stringify(sub)}`,
      );
  }
}

function numberOption(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback: number,
  min: number,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(value) || value < min) {
    throw new UsageError(`--${name} takes a number of at least ${min} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

function options(args: string[], names: string[]): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({
      args,
      options: Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
      strict: true,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function demoCommand(args: string[]): Promise<number> {
  const values = options(args, ['duration', 'rate']);
  return demo({
    durationSeconds: values.duration === undefined ? undefined : numberOption(values, 'duration', 30, 1),
    rate: numberOption(values, 'rate', 20, 0.1),
  });
}

async function loadCommand(args: string[]): Promise<number> {
  const values = options(args, ['url', 'rate', 'duration', 'mix', 'fault-rate']);
  let mix = DEFAULT_MIX;
  try {
    if (typeof values.mix === 'string') mix = parseMix(values.mix);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const faultRate = numberOption(values, 'fault-rate', 0.02, 0);
  if (faultRate > 1) throw new UsageError('--fault-rate takes a share between 0 and 1');
  const report = await runLoad({
    url: typeof values.url === 'string' ? values.url : demoConfig().urls.gateway,
    rate: numberOption(values, 'rate', 20, 0.1),
    durationSeconds: numberOption(values, 'duration', 30, 1),
    mix,
    faultRate,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  return report.byStatus['0'] === report.sent ? 1 : 0;
}

function componentName(value: string): ComponentName {
  if ((COMPONENT_ORDER as readonly string[]).includes(value)) return value as ComponentName;
  throw new UsageError(
    `unknown component ${JSON.stringify(value)}; expected one of ${COMPONENT_ORDER.join(', ')}`,
  );
}

function printStatus(status: StackStatus): void {
  const rows = status.components.map((c) => [
    c.name,
    c.pid === null ? '-' : String(c.pid),
    String(c.port),
    c.healthy ? 'healthy' : c.running ? 'unhealthy' : 'stopped',
    Object.values(c.endpoints)[0] ?? '',
  ]);
  const header = ['component', 'pid', 'port', 'health', 'endpoint'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) {
    process.stdout.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
  process.stdout.write(
    `s3 bucket: ${status.s3.bucket} at ${status.s3.endpoint} (state: ${status.stateDir})\n`,
  );
}

// `observatory … | head` closes the pipe early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`observatory: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (error instanceof StackError) {
    process.stderr.write(`observatory: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
