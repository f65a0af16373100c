// Loaded first into a process under test (NODE_OPTIONS=--require ./test/support/module-log.cjs, from the repository):
// appends the URL of every module the process loads from then on — ES modules, CommonJS, JSON, native addons — one a
// line, to .observatory/test/modules-<pid>.txt. test/etl/sandbox-modules.test.ts reads it for a sandbox's pid.
const { appendFileSync, mkdirSync } = require('node:fs');
const { registerHooks } = require('node:module');
const { join } = require('node:path');

const dir = join(__dirname, '..', '..', '.observatory', 'test');
mkdirSync(dir, { recursive: true });
const file = join(dir, `modules-${process.pid}.txt`);
registerHooks({
  load(url, context, next) {
    appendFileSync(file, `${url}\n`);
    return next(url, context);
  },
});
