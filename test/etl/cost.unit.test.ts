/** The ETL's cost maths (etl/listener/cost.ts): Lambda-style billing against always-on servers, by hand. */
import { describe, expect, it } from 'vitest';
import { etlConfig } from '../../etl/config.ts';
import { costView, jobCost, type CostConfig } from '../../etl/listener/cost.ts';

const prices: CostConfig = {
  memoryMb: 512,
  pricePerGbSecond: 0.0000166667,
  pricePerRequest: 0.0000002,
  alwaysOnHourlyPrice: 0.096,
  concurrency: 4,
};

describe('The cost of an ETL job', () => {
  it('bills memory × billed time in GB-seconds, plus a price per invocation', () => {
    // 6 invocations billed 1500 ms in all at 512 MB: 1.5 s × 0.5 GB = 0.75 GB-s.
    const cost = jobCost({ billedMs: 1500, invocations: 6, wallSeconds: 2 }, prices);
    expect(cost.gbSeconds).toBe(0.75);
    expect(cost.serverlessUsd).toBeCloseTo(0.75 * 0.0000166667 + 6 * 0.0000002, 15);
  });

  it('prices the always-on alternative as servers for the whole concurrency over the wall-clock time', () => {
    // 4 servers at $0.096 an hour for 90 s: 4 × 0.096 × 90 / 3600 = $0.0096.
    const cost = jobCost({ billedMs: 0, invocations: 0, wallSeconds: 90 }, prices);
    expect(cost.alwaysOnUsd).toBeCloseTo(0.0096, 15);
    expect(cost.serverlessUsd).toBe(0);
    expect(cost.gbSeconds).toBe(0);
  });

  it('scales the GB-seconds with the configured memory', () => {
    const small = jobCost({ billedMs: 1000, invocations: 1, wallSeconds: 1 }, { ...prices, memoryMb: 128 });
    const large = jobCost(
      { billedMs: 1000, invocations: 1, wallSeconds: 1 },
      { ...prices, memoryMb: 10_240 },
    );
    expect(small.gbSeconds).toBe(0.125);
    expect(large.gbSeconds).toBe(10);
  });

  it('shows GB-seconds to the microsecond and dollars to the nano-dollar in the jobs API', () => {
    const view = costView({ gbSeconds: 0.123456789, serverlessUsd: 0.00000123456789, alwaysOnUsd: 1 / 3 }, 7);
    expect(view).toEqual({
      billed_gb_seconds: 0.123457,
      serverless_usd: 0.000001235,
      always_on_usd: 0.333333333,
      invocations: 7,
    });
  });

  it('uses Lambda’s and EC2’s list prices by default', () => {
    const config = etlConfig({});
    expect(config).toMatchObject(prices);
    const cost = jobCost({ billedMs: 2000, invocations: 2, wallSeconds: 1 }, config);
    expect(costView(cost, 2)).toEqual({
      billed_gb_seconds: 1,
      serverless_usd: 0.000017067,
      always_on_usd: 0.000106667,
      invocations: 2,
    });
  });
});
