/**
 * What a worker sandbox loads (issue 24: a sandbox must fit a 128 MB Lambda): a crop-statistics sandbox never loads
 * DuckDB nor the SQS client — only the compaction handler needs DuckDB, only the SQS entry the SQS client — and a
 * sandbox runs our code built to JavaScript, not the TypeScript sources (whose type stripping keeps ≈ 18 MiB resident
 * in every process). Read from the sandbox's own module list (test/support/module-log.cjs), against the real stack.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STATE_ROOT } from '../../common/paths.ts';
import { S3Store } from '../../common/s3-store.ts';
import { etlConfig } from '../../etl/config.ts';
import { Fleet } from '../../etl/runtime/fleet.ts';
import type { ChunkEvent, FunctionName } from '../../etl/types.ts';
import { days, seed, tiles } from '../../imagery/scenes.ts';
import { startListener, type TestListener } from '../support/etl.ts';

const fleets: Fleet[] = [];

/** A fleet of one sandbox of `name`, each of its processes logging the modules it loads. */
function loggingFleet(name: FunctionName): Fleet {
  const env = { ...process.env, NODE_OPTIONS: '--require ./test/support/module-log.cjs' };
  const fleet = new Fleet(name, { ...etlConfig(), concurrency: 1 }, env);
  fleets.push(fleet);
  return fleet;
}

function chunk(kind: FunctionName, payload: unknown): ChunkEvent {
  return { job_id: `modules-${kind}`, kind, chunk_index: 0, chunk_count: 1, attempt: 1, payload, trace: {} };
}

/** The modules the fleet's one sandbox has loaded so far. */
function modulesOf(fleet: Fleet): string[] {
  const [pid] = fleet.pids();
  expect(pid).toBeDefined();
  return modulesOfProcess(pid!);
}

function modulesOfProcess(pid: number): string[] {
  return readFileSync(join(STATE_ROOT, 'test', `modules-${pid}.txt`), 'utf8')
    .split('\n')
    .filter(Boolean);
}

let listener: TestListener | undefined;

afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.close()));
  await listener?.stop();
  listener = undefined;
});

describe('A worker sandbox', () => {
  it('runs a crop-statistics chunk without loading DuckDB, the SQS client or any TypeScript source', async () => {
    await seed(S3Store.fromSettings(etlConfig().s3));
    const fleet = loggingFleet('crop_stats');
    const result = await fleet.invoke(chunk('crop_stats', { tile: tiles()[0], date: days()[0] }));
    expect(result.error).toBeUndefined();
    const modules = modulesOf(fleet);
    // The log is a real one: the handler's S3 client is in it.
    expect(modules.some((url) => url.includes('/@aws-sdk/client-s3/'))).toBe(true);
    expect(modules.filter((url) => url.includes('/@duckdb/'))).toEqual([]);
    expect(modules.filter((url) => url.includes('/@aws-sdk/client-sqs/'))).toEqual([]);
    expect(modules.filter((url) => url.endsWith('.ts'))).toEqual([]);
  });

  it('loads DuckDB in a compaction sandbox, which needs it', async () => {
    const fleet = loggingFleet('compaction');
    const result = await fleet.invoke(chunk('compaction', { keys: [] }));
    expect(result.error).toBeUndefined();
    expect(modulesOf(fleet).some((url) => url.includes('/@duckdb/'))).toBe(true);
  });
});

describe('The ETL listener', () => {
  it('plans and runs a compaction job without loading DuckDB (its sandboxes compact)', async () => {
    listener = await startListener({
      NODE_OPTIONS: '--require ./test/support/module-log.cjs',
      OBSERVATORY_ETL_DISPATCH: 'fleet',
    });
    const job = await listener.runJob({ kind: 'compaction', batch_size: 50, signals: ['events'] });
    expect(job.status).toBe('done');
    const modules = modulesOfProcess(listener.pid);
    // The log is a real one: the planning module came in with the job.
    expect(modules.some((url) => url.endsWith('/lake/plan.ts'))).toBe(true);
    expect(modules.filter((url) => url.includes('/@duckdb/') || url.endsWith('/lake/compact.ts'))).toEqual(
      [],
    );
  }, 120_000);
});
