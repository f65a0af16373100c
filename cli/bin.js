#!/usr/bin/env node
// The `observatory` command. Plain JavaScript so that an old Node gets a clear message instead of a syntax error.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `observatory needs Node.js 22.18 or newer (found ${process.version}). ` +
      'Run it through npm (`npx observatory …` or `npm run …`), which uses the Node 24 the project installs.\n',
  );
  process.exit(2);
}
const { run } = await import('./main.ts');
// `observatory … | head` closes the pipe early; that is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await run(process.argv.slice(2));
