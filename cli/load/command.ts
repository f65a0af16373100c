/** `observatory load`: parses its options, drives the gateway (generator.ts) and prints the report. */
import { UsageError } from '../../common/errors.ts';
import { demoConfig } from '../../services/config.ts';
import { numberOption, parseOptions } from '../args.ts';
import { DEFAULT_MIX, formatReport, parseMix, runLoad } from './generator.ts';

export const LOAD_USAGE = `  load [--url U] [--rate R] [--duration S] [--mix search=70,download=22,signup=5,job=3] [--fault-rate F]
                               drive the gateway with a realistic mix; prints latency and sample trace IDs`;

export async function loadCommand(args: string[]): Promise<number> {
  const { values } = parseOptions(args, ['url', 'rate', 'duration', 'mix', 'fault-rate']);
  let mix = DEFAULT_MIX;
  try {
    if (typeof values.mix === 'string') mix = parseMix(values.mix);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const faultRate = numberOption(values, 'fault-rate', 0.02, 0);
  if (faultRate > 1) throw new UsageError('--fault-rate takes a share between 0 and 1');
  const report = await runLoad({
    url: typeof values.url === 'string' ? values.url : demoConfig().urls.gateway,
    rate: numberOption(values, 'rate', 20, 0.1),
    durationSeconds: numberOption(values, 'duration', 30, 1),
    mix,
    faultRate,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  return report.byStatus['0'] === report.sent ? 1 : 0;
}
