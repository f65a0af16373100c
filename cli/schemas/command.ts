/**
 * `observatory schemas publish [--dir D] [--vendor V] [--json]`: publishes an event registry beside the data
 * (lake/schemas.ts). Without --dir it publishes ours (set-up does); with it, a team's own: a folder of event files
 * (`<name>.<SchemaVer>.ts`, each `export default defineEvent({…})`, as `observatory new service` writes them) or of
 * self-describing JSON Schemas (`<name>.<SchemaVer>.json`). Exit 0 when every schema is published or unchanged,
 * 1 when one is refused (each refusal says why), 2 on bad usage.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../../common/errors.ts';
import { S3Store } from '../../common/s3-store.ts';
import { formatTable } from '../../common/table.ts';
import { publishSchemas, SCHEMAS_PREFIX, type PublishResult } from '../../lake/schemas.ts';
import { allDefinitions } from '../../tracker/registry.ts';
import type { EventDefinition } from '../../tracker/schema.ts';
import {
  OUR_VENDOR,
  selfDescribingSchema,
  type SelfDescribingSchema,
} from '../../tracker/self-describing.ts';
import { parseOptions } from '../args.ts';
import type { Verb } from '../verb.ts';

const SCHEMAS_USAGE = `usage: observatory schemas <command>

  schemas publish [--dir D] [--vendor V] [--json]
                               publish event schemas to the lake's bucket (${SCHEMAS_PREFIX}<vendor>/<name>/jsonschema/<version>),
                               where compaction validates events against them: a team's own from folder D (event
                               files <name>.<SchemaVer>.ts or self-describing <name>.<SchemaVer>.json), ours without
                               --dir. Publishing again is a no-op; a changed schema under a published version is
                               refused (SchemaVer: publish it as a new version). Exit 1 when any schema is refused

  --vendor V  who owns the events (default: the name in the nearest package.json above D, without its @scope/)
`;

export const verb: Verb = { name: 'schemas', usage: SCHEMAS_USAGE, run: schemasCommand, ownHelp: true };

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  store?: S3Store;
}

const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const EVENT_FILE = /^([a-z][a-z0-9_]*)\.([1-9]\d*-\d+-\d+)\.(ts|json)$/;

export async function schemasCommand(args: string[], io: Io = processIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') {
    io.out(SCHEMAS_USAGE);
    return 0;
  }
  try {
    if (sub !== 'publish') throw new UsageError(`unknown sub-command ${JSON.stringify(sub ?? '')}`);
    const { values } = parseOptions(rest, ['dir', 'vendor'], ['json']);
    const dir = values.dir as string | undefined;
    const schemas = dir
      ? await teamSchemas(resolve(dir), (values.vendor as string | undefined) ?? vendorOf(resolve(dir)))
      : allDefinitions().map((definition) => selfDescribingSchema(definition, OUR_VENDOR));
    const results = await publishSchemas(io.store ?? S3Store.fromSettings(), schemas);
    io.out(values.json ? `${JSON.stringify(results, null, 2)}\n` : summary(results));
    return results.some((r) => r.outcome === 'refused') ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`observatory schemas: ${error.message}\n\n${SCHEMAS_USAGE}`);
      return 2;
    }
    io.err(`observatory schemas: ${(error as Error).message}\n`);
    return 1;
  }
}

/** The folder's event files (or JSON Schemas) as self-describing schemas of `vendor`. */
async function teamSchemas(dir: string, vendor: string): Promise<SelfDescribingSchema[]> {
  const files = readdirSync(dir).filter((file) => EVENT_FILE.test(file));
  if (files.length === 0) {
    throw new UsageError(`${dir} has no event files (<name>.<SchemaVer>.ts or <name>.<SchemaVer>.json)`);
  }
  const schemas: SelfDescribingSchema[] = [];
  for (const file of files.sort()) {
    const path = join(dir, file);
    if (file.endsWith('.json')) {
      schemas.push(JSON.parse(readFileSync(path, 'utf8')) as SelfDescribingSchema);
      continue;
    }
    // The content's hash in the URL: a file edited since this process last imported it is read afresh.
    const version = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
    const module = (await import(`${pathToFileURL(path).href}?content=${version}`)) as {
      default?: EventDefinition;
    };
    if (!module.default?.schema) throw new Error(`${file}: has no default export made with defineEvent`);
    schemas.push(selfDescribingSchema(module.default, vendor));
  }
  return schemas;
}

/** The nearest package.json's name above `dir`, unscoped: the team's vendor by default. */
function vendorOf(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    try {
      const { name } = JSON.parse(readFileSync(join(at, 'package.json'), 'utf8')) as { name?: string };
      if (name) return basename(name).toLowerCase();
    } catch {
      // No package.json here: look further up.
    }
    if (dirname(at) === at)
      throw new UsageError(`no package.json above ${dir}: name the owner with --vendor`);
  }
}

function summary(results: PublishResult[]): string {
  const rows = results.map((r) => [r.name, r.version, r.outcome, r.reason ?? r.key]);
  return `${formatTable([['event', 'version', 'outcome', 'where / why'], ...rows]).join('\n')}\n`;
}
