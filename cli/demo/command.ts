/** `observatory demo`: parses its options and runs the demo (demo.ts). */
import { numberOption, parseOptions } from '../args.ts';
import { demo } from '../../demo/demo.ts';
import type { Verb } from '../verb.ts';

const DEMO_USAGE = `  demo [--duration S] [--rate R]
                               the main job: stack, services, load; prints where to look (Ctrl-C stops)`;

export const verb: Verb = { name: 'demo', usage: DEMO_USAGE, run: demoCommand, ownHelp: false };

async function demoCommand(args: string[]): Promise<number> {
  const { values } = parseOptions(args, ['duration', 'rate']);
  return demo({
    durationSeconds: values.duration === undefined ? undefined : numberOption(values, 'duration', 30, 1),
    rate: numberOption(values, 'rate', 20, 0.1),
  });
}
