/**
 * `observatory load`: parses its options, drives the gateway (generator.ts), prints the report and judges it: exit 1
 * when nothing answered or when the share of server errors (5xx, or no answer) is above `--max-5xx` percent.
 */
import { UsageError } from '../../common/errors.ts';
import { demoConfig } from '../../services/config.ts';
import { numberOption, parseOptions } from '../args.ts';
import { DEFAULT_MIX, formatReport, judgeReport, parseMix, runLoad } from '../../demo/load-generator.ts';
import type { Verb } from '../verb.ts';

const LOAD_USAGE = `  load [--url U] [--rate R] [--duration S] [--mix search=70,download=22,signup=5,job=3] [--fault-rate F]
       [--max-5xx P]           drive the gateway with a realistic mix; prints latency and sample trace IDs;
                               exit 1 when nothing answered or more than P % (default 5) were server errors`;

export const verb: Verb = { name: 'load', usage: LOAD_USAGE, run: loadCommand, ownHelp: false };

async function loadCommand(args: string[]): Promise<number> {
  const { values } = parseOptions(args, ['url', 'rate', 'duration', 'mix', 'fault-rate', 'max-5xx']);
  let mix = DEFAULT_MIX;
  try {
    if (typeof values.mix === 'string') mix = parseMix(values.mix);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const faultRate = numberOption(values, 'fault-rate', 0.02, 0);
  if (faultRate > 1) throw new UsageError('--fault-rate takes a share between 0 and 1');
  const max5xx = numberOption(values, 'max-5xx', 5, 0);
  if (max5xx > 100) throw new UsageError('--max-5xx takes a percentage between 0 and 100');
  const url = typeof values.url === 'string' ? values.url : demoConfig().urls.gateway;
  if (!/^https?:\/\/[^/]+/.test(url) || !URL.canParse(url)) {
    throw new UsageError(`--url takes the gateway's http(s) URL (got ${JSON.stringify(url)})`);
  }
  const report = await runLoad({
    url,
    rate: numberOption(values, 'rate', 20, 0.1),
    durationSeconds: numberOption(values, 'duration', 30, 1),
    mix,
    faultRate,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  const failure = judgeReport(report, max5xx);
  if (failure) process.stderr.write(`observatory load: ${failure}\n`);
  return failure ? 1 : 0;
}
