// The README and the pages under docs/ link to each other and to files in the repository; a moved or renamed file
// must not leave a dead link behind. Reads only README.md and docs/*.md, and never follows a link out of the clone.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** README.md and every docs/*.md, as paths relative to the repository root. */
function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** The targets of inline links and images, and of reference definitions, outside code blocks and code spans. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/(`+)[\s\S]*?\1/g, '');
  const inline = [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
    (m) => m[1]!,
  );
  const references = [...prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/gm)].map((m) => m[1]!);
  return [...inline, ...references];
}

/** Links to other sites (http:, https:, mailto:, …) are not checked here. */
function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('//');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

function anchors(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  return new Set([...withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)].map((m) => slug(m[1]!)));
}

/** What is wrong with one relative link from `file`, or undefined when it points at an existing file. */
function problem(file: string, target: string): string | undefined {
  const [pathPart = '', anchor] = target.split('#', 2);
  const path = decodeURIComponent(pathPart);
  const absolute = path === '' ? join(ROOT, file) : resolve(ROOT, dirname(file), path);
  const inside = relative(ROOT, absolute);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    return `${target} leads out of the repository`;
  }
  if (!existsSync(absolute)) return `${target}: ${inside} does not exist`;
  if (anchor !== undefined && absolute.endsWith('.md')) {
    if (!anchors(readFileSync(absolute, 'utf8')).has(anchor))
      return `${target}: no heading #${anchor} in ${inside}`;
  }
  return undefined;
}

describe('documentation links', () => {
  const files = markdownFiles();

  it('finds links in prose and skips those in code, and tells relative links from other sites', () => {
    const sample = [
      'See [the demo](docs/demo.md), ![a diagram](img/flow.png "flow") and [a site](https://example.com).',
      'Code: `[not](a-link.md)`.',
      '```ts',
      'const x = arr[0](y.md);',
      '[also not](inside-a-block.md)',
      '```',
      '[ref]: docs/stack.md',
    ].join('\n');
    const targets = linkTargets(sample);
    expect(targets).toEqual(['docs/demo.md', 'img/flow.png', 'https://example.com', 'docs/stack.md']);
    expect(targets.filter(isRelative)).toEqual(['docs/demo.md', 'img/flow.png', 'docs/stack.md']);
  });

  it('names a missing file and a link that leaves the repository', () => {
    expect(problem('docs/demo.md', 'no-such-page.md')).toBe(
      'no-such-page.md: docs/no-such-page.md does not exist',
    );
    expect(problem('docs/demo.md', '../../outside.md')).toBe('../../outside.md leads out of the repository');
    expect(problem('docs/demo.md', '../README.md')).toBeUndefined();
  });

  it.each(files)('every relative link in %s points at an existing file in the repository', (file) => {
    const targets = linkTargets(readFileSync(join(ROOT, file), 'utf8')).filter(isRelative);
    const problems = targets.map((target) => problem(file, target)).filter((p) => p !== undefined);
    expect(problems).toEqual([]);
  });

  it('the README links to every page under docs/', () => {
    const linked = new Set(
      linkTargets(readFileSync(join(ROOT, 'README.md'), 'utf8'))
        .filter(isRelative)
        .map((target) => target.split('#')[0]),
    );
    const missing = files.filter((file) => file !== 'README.md' && !linked.has(file));
    expect(missing).toEqual([]);
  });

  it('every page under docs/ links back to the README', () => {
    const orphans = files
      .filter((file) => file !== 'README.md')
      .filter((file) => {
        const targets = linkTargets(readFileSync(join(ROOT, file), 'utf8')).filter(isRelative);
        return !targets.some(
          (target) => resolve(ROOT, dirname(file), target.split('#')[0]!) === join(ROOT, 'README.md'),
        );
      });
    expect(orphans).toEqual([]);
  });
});
