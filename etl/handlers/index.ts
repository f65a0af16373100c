/** The functions the fleet can run, by name: each a module exporting a Lambda-signature `handler`. */
export const FUNCTIONS = {
  crop_stats: './crop-stats.ts',
  compaction: './compaction.ts',
} as const;

export type FunctionName = keyof typeof FUNCTIONS;
