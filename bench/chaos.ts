/**
 * The chaos scenarios (bench/chaos/scenarios.ts) on a stack of their own, in their long form for soak: 60 s outages
 * of Jaeger, the S3 store and the Collector under steady load, and a 30-chunk ETL job with 10 sandboxes killed from
 * outside, in both dispatch modes. Prints each scenario's figures (sent, received, lost, duplicates, RSS growth) as
 * a Markdown table. `--soak M` repeats the rounds until M minutes have passed (a 10-minute soak: `--long --soak 10`).
 * The short form of the same scenarios runs in `npm test` (test/chaos/, ports 25100+); the default base here, 25300,
 * is clear of every test's (a bench and `npm test` may run at once).
 *
 *   npm run bench -- chaos [--long] [--soak 10] [--outage 60] [--rate 20] [--only jaeger,s3,collector,etl] [--base 25300]
 */
import { parseArgs } from 'node:util';
import {
  ChaosStack,
  collectorOutage,
  etlChaos,
  formatFigures,
  jaegerOutage,
  LONG,
  LONG_ETL,
  SHORT,
  SHORT_ETL,
  storeOutage,
  type Figures,
} from './chaos/scenarios.ts';
import { failedFigure, printFigures, type Figure } from './report.ts';

/** The command line (`npm run bench -- chaos [options]` or `node bench/chaos.ts`); returns the figures. */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      long: { type: 'boolean', default: false },
      outage: { type: 'string' },
      rate: { type: 'string' },
      only: { type: 'string', default: 'jaeger,s3,collector,etl' },
      base: { type: 'string', default: '25300' },
      soak: { type: 'string', default: '0' },
    },
  });

  const timings = { ...(values.long ? LONG : SHORT) };
  if (values.outage) timings.outageSeconds = Number(values.outage);
  if (values.rate) timings.rate = Number(values.rate);
  const etl = values.long ? LONG_ETL : SHORT_ETL;
  const only = new Set(values.only.split(','));

  const stack = new ChaosStack(Number(values.base), (line) => process.stderr.write(`[stack] ${line}\n`));
  const figures: Figures[] = [];
  const failed: Figure[] = [];
  const report = (f: Figures) => {
    figures.push(f);
    process.stderr.write(`[chaos] ${JSON.stringify(f)}\n`);
  };
  /** A scenario that throws is reported as such; the others still run. */
  const attempt = async (name: string, scenario: () => Promise<Figures>) => {
    try {
      report(await scenario());
    } catch (error) {
      process.stderr.write(`[chaos] ${name} failed: ${(error as Error).message}\n`);
      failed.push(failedFigure(`chaos.${name}`, `Chaos: ${name}`, error));
    }
  };
  const soakUntil = Date.now() + Number(values.soak) * 60_000;
  try {
    await stack.up();
    do {
      if (only.has('jaeger')) await attempt('jaeger', () => jaegerOutage(stack, timings));
      if (only.has('s3')) await attempt('s3', () => storeOutage(stack, timings));
      if (only.has('collector')) await attempt('collector', () => collectorOutage(stack, timings));
      if (only.has('etl')) {
        for (const dispatch of ['fleet', 'sqs'] as const) {
          await attempt(`etl ${dispatch}`, async () => {
            const { job: _job, queue: _queue, ...f } = await etlChaos(stack, { dispatch, ...etl });
            return f;
          });
        }
      }
    } while (Date.now() < soakUntil);
  } finally {
    await stack.down();
  }
  process.stdout.write(`${formatFigures(figures)}\n`);
  const result: Figure[] = [
    ...figures.flatMap((f): Figure[] => [
      {
        id: `chaos.${f.scenario}.lost`,
        figure: `Chaos ${f.scenario}: ${f.unit} lost of ${f.sent} sent`,
        ours: f.lost,
        unit: f.unit,
        better: 'lower',
      },
      ...(f.rssGrowthMiB === undefined
        ? []
        : [
            {
              id: `chaos.${f.scenario}.rss`,
              figure: `Chaos ${f.scenario}: RSS growth`,
              ours: f.rssGrowthMiB,
              unit: 'MiB',
              better: 'lower' as const,
            },
          ]),
    ]),
    ...failed,
  ];
  printFigures(result);
  return result;
}

if (import.meta.main) await cli();
