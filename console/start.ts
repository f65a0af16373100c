/**
 * Starting the console: the front end rebuilt when its sources changed, then the server; and the links printed for it
 * (`observatory ui`, `observatory demo`).
 */
import { buildUi } from './build.ts';
import { uiConfig, type UiConfig } from './config.ts';
import { startUiServer, type UiServer } from './server.ts';

/** Builds the bundle if stale and starts the server; used by the command and by `observatory demo`. */
export async function startUi(config: UiConfig = uiConfig()): Promise<UiServer> {
  await buildUi(config.sourceDir, config.assetsDir);
  return startUiServer(config);
}

/** The links printed for a running console: the first demo trace first, then each page. */
export function uiLinks(url: string, traceIds: string[] = []): string[] {
  return [
    ...traceIds.map((id) => `${url}/traces/${id}`),
    `${url}/traces`,
    `${url}/services`,
    `${url}/dashboards`,
    `${url}/lake`,
  ];
}
