/**
 * `observatory ui`: builds the front end when its sources changed, serves the console on 127.0.0.1 and runs until
 * Ctrl-C. Each page has a text equivalent in the CLI, listed in UI_USAGE.
 */
import { parseArgs } from 'node:util';
import { startUi, uiConfig, uiLinks, type UiServer } from '../../console/index.ts';
import type { Verb } from '../verb.ts';

const UI_USAGE = `usage: observatory ui [--port P]

  ui [--port P]                a local web console on http://127.0.0.1:8686 (Ctrl-C stops): /traces/<id> (waterfall,
                               logs, events), /traces, /services, /dashboards, /lake

  --port P    listen on port P (default 8686, or OBSERVATORY_UI_PORT); always on 127.0.0.1
  the same in text: observatory trace <id> | trace --last | lake query "<sql>"; dashboards: deploy/grafana
`;

export const verb: Verb = { name: 'ui', usage: UI_USAGE, run: uiCommand, ownHelp: true };

class UsageError extends Error {}

async function uiCommand(args: string[]): Promise<number> {
  let port: number | undefined;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      process.stdout.write(UI_USAGE);
      return 0;
    }
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!/^\d+$/.test(values.port) || port < 1 || port > 65535) {
        throw new UsageError(
          `--port takes a port number from 1 to 65535 (got ${JSON.stringify(values.port)})`,
        );
      }
    }
  } catch (error) {
    process.stderr.write(`observatory ui: ${(error as Error).message}\n\n${UI_USAGE}`);
    return 2;
  }
  const config = { ...uiConfig(), ...(port === undefined ? {} : { port }) };
  let server: UiServer;
  try {
    server = await startUi(config);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    process.stderr.write(
      code === 'EADDRINUSE'
        ? `observatory ui: port ${config.port} is in use; choose another with --port\n`
        : `observatory ui: ${(error as Error).message}\n`,
    );
    return 1;
  }
  process.stdout.write(
    `Observatory console: ${server.url}\n${uiLinks(server.url)
      .map((l) => `  ${l}`)
      .join('\n')}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
