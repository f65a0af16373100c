// Lint rules for the whole repository: typescript-eslint's recommended, and the direction of imports between parts.
// The parts form floors (README, Layout); each part names the parts it may import, and everything else is refused:
// static imports, re-exports, import() and require(), in .ts, .mts, .cts, .js, .mjs and .cjs files of every folder.
// A part's private folder (instrumentation/src/) is reachable only through its public entry points (tests excepted:
// they unit-test the internals).
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

const ROOT = dirname(fileURLToPath(import.meta.url));

const ALL_BELOW_CLI = [
  'common',
  'instrumentation',
  'imagery',
  'stack',
  'tracker',
  'lake',
  'trace',
  'etl',
  'services',
  'console',
  'demo',
  'packages',
];

/** What each part may import, besides itself. A folder missing here may import nothing of ours. */
export const MAY_IMPORT = {
  common: [],
  instrumentation: ['common'],
  imagery: ['common'],
  stack: ['common'],
  tracker: ['common', 'instrumentation'],
  lake: ['common', 'tracker'],
  trace: ['common', 'lake'],
  etl: ['common', 'imagery', 'instrumentation', 'tracker', 'lake'],
  services: ['common', 'imagery', 'instrumentation', 'tracker'],
  console: ['common', 'lake', 'trace'],
  demo: ['common', 'stack', 'imagery', 'services', 'etl', 'lake', 'console'],
  packages: ['common', 'instrumentation', 'tracker'],
  deploy: ['common', 'instrumentation', 'tracker', 'lake', 'etl'],
  // The browser front end: the console API's and the trace document's types only.
  ui: ['console', 'trace'],
  cli: ALL_BELOW_CLI,
  bench: [...ALL_BELOW_CLI, 'deploy'],
  scripts: [...ALL_BELOW_CLI, 'deploy', 'bench'],
  test: [...ALL_BELOW_CLI, 'deploy', 'bench', 'cli', 'scripts', 'ui'],
};

/** The repository-relative path a relative specifier names, or undefined for a package or an unknowable one. */
function target(file, specifier) {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  return relative(ROOT, resolve(dirname(file), specifier))
    .split(sep)
    .join('/');
}

/** The static text of an import's source: a string, or a template literal's part before its first expression. */
function sourceText(node) {
  if (!node) return undefined;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral') return node.quasis[0]?.value.cooked ?? undefined;
  return undefined;
}

const importDirection = {
  meta: {
    type: 'problem',
    docs: { description: 'imports run downward between parts (eslint.config.js, MAY_IMPORT)' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const own = relative(ROOT, file).split(sep);
    if (own.length < 2 || own[0] === '..') return {};
    const part = own[0];
    const allowed = new Set([part, ...(MAY_IMPORT[part] ?? [])]);
    const check = (node, specifier) => {
      if (specifier === undefined) return;
      const path = target(file, specifier);
      if (path === undefined) return;
      const [top] = path.split('/');
      if (top === '..' || !path.includes('/')) return;
      if (!allowed.has(top)) {
        context.report({
          node,
          message: `${part}/ may not import ${top}/ (${specifier}): imports run downward; ${part}/ may import ${[...allowed].join(', ')} (eslint.config.js).`,
        });
      } else if (part !== 'instrumentation' && part !== 'test' && path.startsWith('instrumentation/src/')) {
        context.report({
          node,
          message: `instrumentation/src/ is private (${specifier}): import instrumentation's public API (api.ts).`,
        });
      }
    };
    const fromSource = (node) => check(node, sourceText(node.source));
    return {
      ImportDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ExportNamedDeclaration: (node) => node.source && fromSource(node),
      ImportExpression: fromSource,
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require') {
          check(node, sourceText(node.arguments[0]));
        }
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', '.observatory/', '**/fixtures/**', 'ui/dist/', 'packages/dist/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.cjs', '**/*.cts'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    plugins: { observatory: { rules: { 'import-direction': importDirection } } },
    rules: { 'observatory/import-direction': 'error' },
  },
);
