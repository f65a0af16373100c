/** `observatory stack`: build, start, stop and inspect the local stack (stack.ts does the work). */
import { readFileSync } from 'node:fs';
import { UsageError } from '../../common/errors.ts';
import { formatTable } from '../../common/table.ts';
import { parseOptions } from '../args.ts';
import { COMPONENT_ORDER, type ComponentName } from '../../stack/components.ts';
import { Stack, type StackStatus } from '../../stack/stack.ts';
import type { Verb } from '../verb.ts';
import { schemasCommand } from '../schemas/command.ts';

const STACK_USAGE = `  stack build [--all]          build or install the stack's binaries (cached outside the clone); --all also the
                               full Collector the scale-out roles run (their tests and benchmarks build it anyway)
  stack up [component…]        build what is missing and start the local stack (idempotent)
  stack down [component…]      stop every process the stack started (or only the components named)
  stack status [--json]        each component: pid, port, health, endpoints
  stack logs [component] [-n N]  the last N (default 50) lines of a component's log`;

export const verb: Verb = { name: 'stack', usage: STACK_USAGE, run: stackCommand, ownHelp: false };

async function stackCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const stack = new Stack();
  switch (sub) {
    case 'up': {
      const { positionals } = parseOptions(rest, [], [], true);
      const status = await stack.up(positionals.length > 0 ? positionals.map(componentName) : undefined);
      printStatus(status);
      if (status.healthy && positionals.length === 0) await publishOurSchemas();
      return status.healthy || positionals.length > 0 ? 0 : 1;
    }
    case 'build': {
      const { values } = parseOptions(rest, [], ['all']);
      await stack.build({ all: Boolean(values.all) });
      return 0;
    }
    case 'down': {
      const { positionals } = parseOptions(rest, [], [], true);
      await stack.down(positionals.length > 0 ? positionals.map(componentName) : undefined);
      return 0;
    }
    case 'status': {
      const { values } = parseOptions(rest, [], ['json']);
      const status = await stack.status();
      if (values.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      else printStatus(status);
      return status.healthy ? 0 : 1;
    }
    case 'logs':
      return printLogs(stack, rest);
    default:
      throw new UsageError(
        sub === undefined ? 'stack needs a sub-command' : `unknown stack sub-command ${JSON.stringify(sub)}`,
      );
  }
}

function printLogs(stack: Stack, args: string[]): number {
  const { values, positionals } = parseOptions(
    args.map((a) => (a === '-n' ? '--n' : a)),
    ['n'],
    [],
    true,
  );
  const count = values.n === undefined ? 50 : Number(values.n);
  if (!Number.isInteger(count) || count <= 0) throw new UsageError('-n takes a positive whole number');
  const selected = positionals.length > 0 ? positionals.map(componentName) : [...COMPONENT_ORDER];
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
  const lines = formatTable([['component', 'pid', 'port', 'health', 'endpoint'], ...rows]);
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(
    `s3 bucket: ${status.s3.bucket} at ${status.s3.endpoint} (state: ${status.stateDir})\n`,
  );
}

/**
 * Our registry, published beside the data as a team's is (`observatory schemas publish`): idempotent, so every `up`
 * does it. A failure is reported, not fatal: the stack itself is up.
 */
async function publishOurSchemas(): Promise<void> {
  let out = '';
  const code = await schemasCommand(['publish', '--json'], {
    out: (text) => (out += text),
    err: (text) => process.stderr.write(text),
  });
  if (code !== 0) {
    process.stderr.write(
      `stack up: publishing our event schemas failed (observatory schemas publish): ${out}\n`,
    );
    return;
  }
  const results = JSON.parse(out) as { outcome: string }[];
  const fresh = results.filter((r) => r.outcome === 'published').length;
  process.stdout.write(
    `schemas: ${results.length} of ours under schemas/observatory/ (${fresh} newly published)\n`,
  );
}
