/** `npm run bench -- <name> [options]`: runs one benchmark from bench/. */
const [name, ...rest] = process.argv.slice(2);
const benches = [
  'instrumentation',
  'profile',
  'tracker',
  'etl',
  'lake',
  'chaos',
  'tiers',
  'collector',
  'freshness',
];
if (!name || !benches.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${benches.join('|')}> [options]\n`);
  process.exit(2);
}
process.argv = [process.argv[0]!, process.argv[1]!, ...rest];
// Most benches run on import; the newer ones export their command line instead.
const bench = (await import(`./${name}.ts`)) as { cli?: () => Promise<void> };
await bench.cli?.();
