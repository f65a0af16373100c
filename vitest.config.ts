// Two projects. `unit`: pure logic and in-memory telemetry, no stack — `npm run test:unit`, seconds.
// `stack`: everything else, against the real local stack that test/support/global-setup.ts builds and starts once.
// `npm test` runs both; the count reporter ends the run with `N passed, N failed, N skipped`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/count-reporter.ts'],
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.unit.test.ts'], testTimeout: 20_000 },
      },
      {
        extends: true,
        test: {
          name: 'stack',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.unit.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
