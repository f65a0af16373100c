/** The functions the fleet can run, by name: each a module exporting a Lambda-signature `handler`. */
import type { FunctionName } from '../types.ts';

export const FUNCTIONS: Record<FunctionName, string> = {
  crop_stats: './crop-stats.ts',
  compaction: './compaction.ts',
};
