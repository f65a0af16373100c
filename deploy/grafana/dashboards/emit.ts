/**
 * Writes each dashboard's JSON to deploy/grafana/dashboards/json/ (committed; Grafana's file provider loads it).
 *   node deploy/grafana/dashboards/emit.ts           write the files
 *   node deploy/grafana/dashboards/emit.ts --check   exit 1 if a committed file differs from what the code emits
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboardJson, DASHBOARDS } from './index.ts';

const outDir = join(dirname(fileURLToPath(import.meta.url)), 'json');
const check = process.argv.includes('--check');
let stale = 0;
for (const source of DASHBOARDS) {
  const path = join(outDir, source.file);
  const json = await dashboardJson(source, path);
  if (check) {
    if (!existsSync(path) || readFileSync(path, 'utf8') !== json) {
      process.stderr.write(`${path} is stale: run node deploy/grafana/dashboards/emit.ts\n`);
      stale++;
    }
  } else {
    writeFileSync(path, json);
    process.stdout.write(`wrote ${path}\n`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
