// docs/configuration.md against the code, so the tables cannot drift: every environment variable the code reads is
// in the table of a section whose "Read by" line names the file that reads it; every variable a section documents
// is still read by one of the files (or OpenTelemetry packages) it names; and where the code's default is a literal,
// the documented default is that literal. Reads come from scanning the source (comments stripped) for the env
// readers of common/env.ts and the config modules' own helpers, raw `env.NAME` reads, and `${env:NAME:-default}`
// references in the Collector's and the deployment's config files.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAY_IMPORT } from '../../eslint.config.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Every part of the repository (the lint rule's list), tests and the browser front end aside. */
const SOURCE_DIRS = Object.keys(MAY_IMPORT).filter((part) => part !== 'test' && part !== 'ui');
/** Variables of ours, OpenTelemetry's, AWS's and the few standard ones the CLI honours. */
const OURS = /^(OBSERVATORY|OTEL|AWS|XDG)_[A-Z0-9_]+$|^NO_COLOR$/;
/** Functions whose second argument (after `env`) is the name of the variable they read. */
const READERS = [
  'readString',
  'readInteger',
  'readPort',
  'readNumber',
  'readBoolean',
  'readList',
  'readChoice',
  'oneOf',
  'subsetOf',
];

interface Read {
  file: string;
  /** The name, or a template with `${…}` placeholders (e.g. OBSERVATORY_${name.toUpperCase()}_PORT). */
  name: string;
  /** The default as written, when the code states it as a literal. */
  default?: string;
}

interface Row {
  section: string;
  name: string;
  default: string;
}

interface Section {
  title: string;
  /** Repository files and npm packages named on the section's "Read by" line. */
  readers: string[];
  rows: Row[];
}

/** The files under `dir`, without installed packages and fixtures (and, in our own tree, build output). */
function walk(dir: string, skip: readonly string[] = ['node_modules', 'fixtures']): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (skip.includes(name)) return [];
    return statSync(path).isDirectory() ? walk(path, skip) : [path];
  });
}

/** Our sources under `dir`: not build output (packages/dist/, ui/dist/), which a package or framework test leaves. */
function walkSources(dir: string): string[] {
  return walk(dir, ['node_modules', 'fixtures', 'dist']);
}

const stripComments = (code: string) =>
  code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');

/** A literal default as the docs would write it, or undefined when the code computes it. */
function literal(expression: string | undefined): string | undefined {
  const text = expression?.trim();
  if (!text) return undefined;
  if (/^'[^']*'$/.test(text)) return text.slice(1, -1);
  if (/^`[^`]*`$/.test(text)) return text.slice(1, -1).replace(/\$\{[^}]*\}/g, '<*>');
  if (text === 'true' || text === 'false') return text;
  if (/^[\d_.]+$/.test(text)) return text.replace(/_/g, '');
  if (/^[\d_.]+(\s*\*\s*[\d_.]+)+$/.test(text))
    return String(text.split('*').reduce((product, factor) => product * Number(factor.replace(/_/g, '')), 1));
  if (/^\[('[^']*'(,\s*)?)*\]$/.test(text))
    return [...text.matchAll(/'([^']*)'/g)].map((m) => m[1]).join(',');
  return undefined;
}

/** Every read of a variable in one TypeScript or JavaScript file. */
function readsOf(file: string): Read[] {
  const code = stripComments(readFileSync(join(ROOT, file), 'utf8'));
  const reads: Read[] = [];
  const name = String.raw`(?:'([A-Z][A-Z0-9_]*)'|\x60([^\x60]*)\x60)`;
  const call = new RegExp(
    String.raw`\b(${READERS.join('|')})\(\s*env\s*,\s*${name}\s*(?:,\s*(\[[^\]]*\]|[^,)]+))?`,
    'g',
  );
  for (const m of code.matchAll(call)) {
    const [, reader, plain, template, third] = m;
    let fallback = ['oneOf', 'subsetOf', 'readChoice'].includes(reader!) ? undefined : literal(third);
    if (reader === 'readString') {
      const after = code.slice(m.index + code.slice(m.index).indexOf(')') + 1);
      const coalesced = /^\s*(?:\?\.\w+\(\))?\s*\?\?\s*('[^']*'|\x60[^\x60]*\x60|[\d_.]+)/.exec(after);
      fallback = literal(coalesced?.[1]);
    }
    reads.push({ file, name: plain ?? template!, default: fallback });
  }
  // Raw reads of an environment object (not assignments to one).
  for (const m of code.matchAll(
    /\benv(?:\.([A-Z][A-Z0-9_]*)|\['([A-Z][A-Z0-9_]*)'\])(?![A-Z0-9_])(?!\s*=[^=])/g,
  ))
    reads.push({ file, name: m[1] ?? m[2]! });
  // Helpers that test whether a variable is set: set('NAME'), set(`NAME_${…}`).
  for (const m of code.matchAll(/\bset\(\s*(?:'([A-Z][A-Z0-9_]*)'|\x60([A-Z][^\x60]*)\x60)\s*\)/g))
    reads.push({ file, name: m[1] ?? m[2]! });
  return reads.filter((read) => OURS.test(read.name.replace(/\$\{[^}]*\}/g, 'X')) || /^\$\{/.test(read.name));
}

/** `${env:NAME:-default}`, `${NAME}` and `$NAME` references in a config file. */
function configReadsOf(file: string): Read[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n');
  const reads: Read[] = [];
  for (const m of text.matchAll(
    /\$\{(?:env:)?((?:OBSERVATORY|OTEL)_[A-Z0-9_]+)(?::-([^}]*))?\}|\$((?:OBSERVATORY|OTEL)_[A-Z0-9_]+)/g,
  ))
    reads.push({ file, name: m[1] ?? m[3]!, default: m[2] || undefined });
  return reads;
}

/** The sections of docs/configuration.md with their readers and table rows. */
function sections(): Section[] {
  const markdown = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
  return markdown
    .split(/^## /m)
    .slice(1)
    .map((chunk) => {
      const title = chunk.split('\n', 1)[0]!.trim();
      const readBy = chunk
        .split(/\n\s*\n/)
        .filter((paragraph) => paragraph.startsWith('Read by'))
        .join(' ');
      const readers = [...readBy.matchAll(/`([^`]+)`/g)]
        .map((m) => m[1]!)
        .filter((path) => /^@[\w-]+\/[\w.-]+$|^[\w.-]+(\/[\w.-]+)+\.(ts|js|mjs|cjs|ya?ml|json)$/.test(path));
      const rows = [...chunk.matchAll(/^\|\s*`([A-Z][A-Z0-9_<>]*)`\s*\|([^|]*)\|/gm)].map((m) => ({
        section: title,
        name: m[1]!,
        default: m[2]!.trim(),
      }));
      return { title, readers, rows };
    });
}

const isConfigFile = (file: string) => /\.(ya?ml|json)$/.test(file);

const placeholder = (name: string) => name.replace(/\$\{[^}]*\}|<[A-Z_]+>/g, '*');

/** Does the code's name (or template) stand for the documented name (or pattern)? */
function matches(code: string, documented: string, candidates: string[]): boolean {
  if (code === documented) return true;
  if (!code.includes('${')) return false;
  if (placeholder(code) === placeholder(documented)) return true;
  // A template such as OBSERVATORY_${name.toUpperCase()}_PORT stands for its expansions with the file's literals.
  const pattern = new RegExp(
    `^${code
      .split(/\$\{[^}]*\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join(`(${candidates.join('|') || '(?!)'})`)}$`,
  );
  return pattern.test(documented);
}

/** Upper-cased identifier-like string literals of a file: the values a template's placeholder can take. */
function candidatesOf(file: string): string[] {
  const code = readFileSync(join(ROOT, file), 'utf8');
  return [...new Set([...code.matchAll(/'([A-Za-z][A-Za-z0-9_]*)'/g)].map((m) => m[1]!.toUpperCase()))];
}

/** The first value of a documented default cell: `observatory` → observatory, 10000 ms → 10000. */
function documentedDefault(cell: string): string {
  const code = /^`([^`]*)`/.exec(cell);
  return (code ? code[1]! : cell.split(/\s/, 1)[0]!).replace(/<[^>]+>/g, '<*>');
}

const packageText = new Map<string, string>();
function textOfPackage(name: string): string {
  if (!packageText.has(name)) {
    const dir = join(ROOT, 'node_modules', name);
    const files = existsSync(dir) ? walk(dir).filter((f) => /\.(mjs|cjs|js)$/.test(f)) : [];
    packageText.set(name, files.map((f) => readFileSync(f, 'utf8')).join('\n'));
  }
  return packageText.get(name)!;
}

/** Does an installed package read the documented variable (a pattern row: through a template)? */
function packageReads(name: string, variable: string): boolean {
  const escape = (part: string) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = variable
    .split(/<[A-Z_]+>/)
    .map(escape)
    .join('\\$\\{[^}]*\\}');
  return new RegExp(`["'\x60]${pattern}["'\x60]`).test(textOfPackage(name));
}

const docs = sections();
const sourceFiles = SOURCE_DIRS.flatMap((dir) => walkSources(join(ROOT, dir)))
  .filter((path) => /\.(ts|js|mjs|cjs)$/.test(path))
  .map((path) => relative(ROOT, path));
const configFiles = ['collector-config', 'deploy']
  .flatMap((dir) => walkSources(join(ROOT, dir)))
  .map((path) => relative(ROOT, path))
  .filter(isConfigFile);
const reads = [...sourceFiles.flatMap(readsOf), ...configFiles.flatMap(configReadsOf)];
const candidates = new Map(sourceFiles.map((file) => [file, candidatesOf(file)]));
const candidatesFor = (file: string) => candidates.get(file) ?? [];

describe('docs/configuration.md', () => {
  it('finds the variables the code reads (the scan itself works)', () => {
    const names = new Set(reads.map((r) => r.name));
    for (const known of [
      'OBSERVATORY_S3_MODE',
      'OBSERVATORY_ETL_PORT',
      // A standard variable our config module reads (the preload composes the providers from it).
      'OTEL_METRIC_EXPORT_INTERVAL',
      'OBSERVATORY_LAKE_CACHE_DIR',
    ])
      expect(names).toContain(known);
    expect(reads.find((r) => r.name === 'OBSERVATORY_ETL_PORT')?.default).toBe('8084');
    expect(
      reads.find((r) => r.name === 'OBSERVATORY_S3_BUCKET' && r.file === 'common/config.ts')?.default,
    ).toBe('observatory');
    expect(docs.length).toBeGreaterThan(5);
  });

  it('names only readers that exist', () => {
    const missing = docs.flatMap((s) =>
      s.readers
        .filter((r) => !existsSync(join(ROOT, r)) && !existsSync(join(ROOT, 'node_modules', r)))
        .map((r) => `${s.title}: ${r}`),
    );
    expect(missing).toEqual([]);
  });

  it('documents every variable the code reads, in a section that names the file reading it', () => {
    // A config file (Collector, deployment) may read a variable documented with the part that sets it.
    const undocumented = reads
      .filter(
        (read) =>
          !docs.some(
            (s) =>
              (isConfigFile(read.file) || s.readers.includes(read.file)) &&
              s.rows.some((row) => matches(read.name, row.name, candidatesFor(read.file))),
          ),
      )
      .map((read) => `${read.file}: ${read.name}`);
    expect([...new Set(undocumented)]).toEqual([]);
  });

  it('documents no variable that its section’s readers no longer read', () => {
    const stale = docs.flatMap((s) =>
      s.rows
        .filter(
          (row) =>
            !reads.some(
              (read) =>
                s.readers.includes(read.file) && matches(read.name, row.name, candidatesFor(read.file)),
            ) &&
            !s.readers.some((reader) => !existsSync(join(ROOT, reader)) && packageReads(reader, row.name)),
        )
        .map((row) => `${s.title}: ${row.name}`),
    );
    expect(stale).toEqual([]);
  });

  it('states the code’s default wherever the code states it as a literal', () => {
    const wrong: string[] = [];
    for (const read of reads) {
      if (read.default === undefined) continue;
      const rows = docs
        .filter((s) => isConfigFile(read.file) || s.readers.includes(read.file))
        .flatMap((s) => s.rows)
        .filter((row) => matches(read.name, row.name, candidatesFor(read.file)));
      // A config file's default may differ by role (local, gateway): the cell must name it.
      const ok = rows.some((row) =>
        isConfigFile(read.file)
          ? row.default.includes(read.default!)
          : documentedDefault(row.default) === read.default,
      );
      if (!ok)
        wrong.push(
          `${read.file}: ${read.name} defaults to ${read.default}; documented: ${rows.map((r) => r.default).join(' / ') || 'nothing'}`,
        );
    }
    expect(wrong).toEqual([]);
  });
});
