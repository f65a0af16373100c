// Lint rules for the whole repository: typescript-eslint's recommended, and the import direction between parts.
// The parts form floors; each may import only from the floors below it (docs/architecture in the README's Layout):
//   common → instrumentation, imagery → tracker → lake → etl, services → cli, bench (and test, which may import all).
// A part's private folder (instrumentation/src/) is reachable only through its public entry points.
import tseslint from 'typescript-eslint';

/** Import patterns a part may not use: every part above it, and other parts' private folders. */
const FORBIDDEN = {
  common: [
    'instrumentation',
    'tracker',
    'lake',
    'imagery',
    'etl',
    'services',
    'cli',
    'bench',
    'deploy',
    'test',
  ],
  instrumentation: ['tracker', 'lake', 'imagery', 'etl', 'services', 'cli', 'bench', 'test'],
  lake: ['instrumentation', 'etl', 'services', 'cli', 'bench', 'test'],
  imagery: ['instrumentation', 'tracker', 'lake', 'etl', 'services', 'cli', 'bench', 'test'],
  tracker: ['lake', 'imagery', 'etl', 'services', 'cli', 'bench', 'test'],
  etl: ['services', 'cli', 'bench', 'test'],
  services: ['etl', 'lake', 'cli', 'bench', 'test'],
  deploy: ['cli', 'bench', 'test', 'services', 'etl'],
  cli: ['bench', 'test'],
  bench: ['test'],
};

const partRules = Object.entries(FORBIDDEN).map(([part, above]) => ({
  files: [`${part}/**/*.{ts,js,mjs}`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: above.flatMap((name) => [`**/${name}/**`, `../${name}`, `../../${name}`]),
            message: `${part}/ may import only from the parts below it (see eslint.config.js).`,
          },
          ...(part === 'instrumentation'
            ? []
            : [
                {
                  group: ['**/instrumentation/src/**'],
                  message: "instrumentation/src/ is private: import instrumentation's public API (api.ts).",
                },
              ]),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/', '.observatory/', '**/fixtures/**', 'ui/dist/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  ...partRules,
);
