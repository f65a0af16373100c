/** deploy/compose/compose.yaml as Compose reads it, for the deployment tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../common/paths.ts';

export const compose = join(REPO_ROOT, 'deploy', 'compose');

/** Compose's own interpolation of ${VAR} from the .env file next to compose.yaml (no defaults used). */
export function composeDocument(): Record<string, unknown> {
  const env = Object.fromEntries(
    readFileSync(join(compose, '.env'), 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z0-9_]+=/.test(line))
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  const text = readFileSync(join(compose, 'compose.yaml'), 'utf8').replace(
    /\$\{(\w+)\}/g,
    (_m, name: string) => {
      if (!(name in env)) throw new Error(`compose.yaml uses \${${name}}, which .env does not set`);
      return env[name]!;
    },
  );
  return parse(text, { merge: true }) as Record<string, unknown>;
}
