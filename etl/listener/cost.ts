/**
 * What a job cost: Lambda-style billing (memory × billed time, plus a price per request) next to the always-on
 * servers the same concurrency would need for the job's wall-clock time. Pure arithmetic on the config's prices.
 */
import type { EtlConfig } from '../config.ts';

export type CostConfig = Pick<
  EtlConfig,
  'memoryMb' | 'pricePerGbSecond' | 'pricePerRequest' | 'alwaysOnHourlyPrice' | 'concurrency'
>;

export interface JobUsage {
  /** Billed milliseconds summed over every invocation, failed ones included. */
  billedMs: number;
  /** Invocations, one per attempt. */
  invocations: number;
  /** From the job's start to its last chunk's end. */
  wallSeconds: number;
}

export interface JobCost {
  gbSeconds: number;
  serverlessUsd: number;
  alwaysOnUsd: number;
}

export function jobCost(usage: JobUsage, config: CostConfig): JobCost {
  const gbSeconds = (usage.billedMs / 1000) * (config.memoryMb / 1024);
  return {
    gbSeconds,
    serverlessUsd: gbSeconds * config.pricePerGbSecond + usage.invocations * config.pricePerRequest,
    // What the same work costs on always-on servers sized for the same concurrency, for the job's duration.
    alwaysOnUsd: (config.alwaysOnHourlyPrice * config.concurrency * usage.wallSeconds) / 3600,
  };
}

/** The cost as the jobs API shows it: GB-seconds to the microsecond, dollars to the nano-dollar. */
export function costView(cost: JobCost, invocations: number) {
  return {
    billed_gb_seconds: round(cost.gbSeconds, 6),
    serverless_usd: round(cost.serverlessUsd, 9),
    always_on_usd: round(cost.alwaysOnUsd, 9),
    invocations,
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
