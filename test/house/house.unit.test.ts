// The house rules that CI must hold, as tests, so that `npm test` counts them in its last line: the whole repository
// lints clean (eslint, prettier) and type-checks (both tsc projects). Each runs the same tool `npm run lint` and
// `npm run typecheck` run, and a failure lists the offending lines. The import-direction rule (eslint.config.js) is
// also tested on its own, on text, so that a rule that quietly stopped refusing cannot pass as a clean repository.
import { execFile } from 'node:child_process';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/paths.ts';

/** Each whole-repository check takes 5-40 s alone, minutes on a loaded machine shared with other test files. */
const WHOLE_REPOSITORY_TIMEOUT_MS = 300_000;

/**
 * Runs a Node tool of node_modules with this Node, at the lowest CPU priority: the checks are long and CPU-bound,
 * and the unit project's other files (which spawn processes under short timeouts) run beside them. Resolves with the
 * tool's exit code and output; a non-zero exit is a result, not an error.
 */
function runTool(script: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [join(REPO_ROOT, script), ...args],
      { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : (error as { code?: unknown }).code;
        if (typeof code !== 'number') reject(error);
        else resolve({ code, output: `${stdout}${stderr}` });
      },
    );
    if (child.pid !== undefined) setPriority(child.pid, 19);
  });
}

/** One line per problem, `path:line:column rule message`, from eslint's JSON report. */
function eslintProblems(results: ESLint.LintResult[]): string[] {
  return results.flatMap((result) =>
    result.messages.map(
      (m) =>
        `${result.filePath.slice(REPO_ROOT.length + 1)}:${m.line}:${m.column} ${m.ruleId ?? ''} ${m.message}`,
    ),
  );
}

describe('The repository', () => {
  it(
    'passes eslint with no problem',
    async () => {
      const { code, output } = await runTool('node_modules/eslint/bin/eslint.js', ['--format', 'json', '.']);
      expect(output.trimStart().startsWith('['), `eslint did not report:\n${output}`).toBe(true);
      const results = JSON.parse(output) as ESLint.LintResult[];
      expect(results.length).toBeGreaterThan(100);
      expect(eslintProblems(results).join('\n')).toBe('');
      expect(code).toBe(0);
    },
    WHOLE_REPOSITORY_TIMEOUT_MS,
  );

  it(
    'is formatted as prettier --check wants it',
    async () => {
      const { code, output } = await runTool('node_modules/prettier/bin/prettier.cjs', ['--check', '.']);
      expect(code, `prettier --check . (run \`npm run format\`):\n${output}`).toBe(0);
      expect(output).toContain('All matched files use Prettier code style!');
    },
    WHOLE_REPOSITORY_TIMEOUT_MS,
  );

  for (const project of ['tsconfig.json', 'ui/tsconfig.json']) {
    it(
      `type-checks with tsc -p ${project}`,
      async () => {
        const { code, output } = await runTool('node_modules/typescript/bin/tsc', ['-p', project]);
        expect(code, `tsc -p ${project}:\n${output}`).toBe(0);
        expect(output).toBe('');
      },
      WHOLE_REPOSITORY_TIMEOUT_MS,
    );
  }
});

/** The import-direction rule's messages for `code` as if it were the file at `path` (repository-relative). */
async function directionProblems(code: string, path: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: REPO_ROOT }).lintText(code, { filePath: join(REPO_ROOT, path) });
  if (!result) throw new Error(`eslint returned no result for ${path}`);
  const fatal = result.messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(`eslint could not parse ${path}: ${fatal[0]!.message}`);
  return result.messages.filter((m) => m.ruleId === 'observatory/import-direction').map((m) => m.message);
}

const REFUSED = 'common/ may not import lake/ (../lake/query.ts): imports run downward';
const USE_IT = 'export const q = queryLake;\n';

/** [what, the file it is written in, its text, what the refusal says] */
const REFUSALS: [string, string, string, string][] = [
  [
    'an upward static import',
    'common/upward.ts',
    `import { queryLake } from '../lake/query.ts';\n${USE_IT}`,
    REFUSED,
  ],
  ['an upward re-export', 'common/upward.ts', "export { queryLake } from '../lake/query.ts';\n", REFUSED],
  [
    'an upward import()',
    'common/upward.ts',
    "export const load = () => import('../lake/query.ts');\n",
    REFUSED,
  ],
  [
    'an upward require() in a .cjs file',
    'common/upward.cjs',
    "const { queryLake } = require('../lake/query.ts');\nmodule.exports = { queryLake };\n",
    REFUSED,
  ],
  [
    'an upward import in a .mts file',
    'common/upward.mts',
    `import { queryLake } from '../lake/query.ts';\n${USE_IT}`,
    REFUSED,
  ],
  [
    'the CLI to runtime code',
    'stack/sub/upward.ts',
    "import { main } from '../../cli/bin.js';\nexport const m = main;\n",
    'stack/ may not import cli/',
  ],
  [
    "instrumentation's private src/ to another part",
    'tracker/private.ts',
    "import { sdk } from '../instrumentation/src/sdk.ts';\nexport const s = sdk;\n",
    'instrumentation/src/ is private',
  ],
];

describe('The import-direction lint rule', () => {
  it.each(REFUSALS)('refuses %s', async (_what, path, code, message) => {
    const problems = await directionProblems(code, path);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('accepts a downward import, a downward import() and an import within the part', async () => {
    const problems = await directionProblems(
      [
        "import { readString } from '../common/env.ts';",
        "import { flatten } from './flatten.ts';",
        "export const load = () => import('../tracker/index.ts');",
        'export const r = [readString, flatten];',
        '',
      ].join('\n'),
      'lake/downward.ts',
    );
    expect(problems).toEqual([]);
  });
});
