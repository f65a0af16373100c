/**
 * The one S3 rule (common/config.ts) end to end: with OBSERVATORY_S3_MODE=cloud, an S3-compatible endpoint, another
 * bucket and other credentials from the standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), compaction,
 * `lake query`, an ETL job run through the listener and `observatory trace` all read and write that bucket, signed
 * with those credentials. The local store accepts any signature, so it sits behind a gate that refuses every request
 * not signed with the other key or not addressed to the other bucket: a part that still used the local credentials
 * or the default bucket fails here instead of passing unnoticed.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { BucketAlreadyOwnedByYou, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Settings } from '../../common/config.ts';
import { REPO_ROOT } from '../../common/paths.ts';
import { s3ClientConfig, S3Store } from '../../common/s3-store.ts';
import { resultKey } from '../../etl/handlers/crop-stats.ts';
import { dayKey, days, tiles, type Scene } from '../../imagery/scenes.ts';
import type { JobView } from '../../etl/listener/jobs.ts';
import { traceCommand } from '../../cli/trace/command.ts';
import type { TraceDocument } from '../../trace/index.ts';
import { uuidv7 } from '../../tracker/index.ts';
import { s3Client, stackEndpoints } from '../support/backends.ts';
import { jobTrace, startListener, type TestListener } from '../support/etl.ts';
import { recentRawPrefixes } from '../support/lake.ts';
import { startS3Gate, type S3Gate } from '../support/s3-gate.ts';

const BUCKET = 'observatory-elsewhere';
const KEY_ID = 'elsewhere-access-key';
const run = randomUUID().slice(0, 8);

let gate: S3Gate;
let env: Record<string, string>;
let listener: TestListener | undefined;
let job: JobView;

/** The other store, as every part sees it with this environment. */
const elsewhere = () => S3Store.fromSettings(s3Settings(env));
/** The shared stack's default bucket, with the local credentials, straight to the store. */
const defaultStore = () => new S3Store(s3Client(), stackEndpoints().s3.bucket);

beforeAll(async () => {
  gate = await startS3Gate(stackEndpoints().s3.endpoint, { accessKeyId: KEY_ID, bucket: BUCKET });
  env = {
    OBSERVATORY_S3_MODE: 'cloud',
    OBSERVATORY_S3_ENDPOINT: gate.url,
    OBSERVATORY_S3_BUCKET: BUCKET,
    AWS_ACCESS_KEY_ID: KEY_ID,
    AWS_SECRET_ACCESS_KEY: 'elsewhere-secret-key',
    AWS_REGION: 'eu-west-1',
  };
  const client = new S3Client(s3ClientConfig(s3Settings(env)));
  try {
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  } catch (error) {
    // The store is persistent: a bucket made by an earlier run is fine.
    const name = (error as { name?: string }).name;
    if (!(error instanceof BucketAlreadyOwnedByYou) && name !== 'BucketAlreadyExists') throw error;
  } finally {
    client.destroy();
  }
});

afterAll(async () => {
  await listener?.stop();
  await gate?.close();
});

/**
 * The `lake` verb as a user runs it, in its own process with this environment. Asynchronously: the gate serves the
 * child's requests from this process.
 */
async function lake(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['cli/bin.js', 'lake', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string; message: string };
    return {
      status: failed.code ?? -1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? failed.message,
    };
  }
}

/** A day and a tile with scenes in the other bucket's catalog, and an area inside that one tile. */
async function tileWithScenes(): Promise<{ day: string; scenes: number; bbox: number[] }> {
  for (const day of days()) {
    const scenes = (await elsewhere().getJson<Scene[]>(dayKey(day))) ?? [];
    const first = scenes[0];
    if (!first) continue;
    const index = Number(/_T(\d+)$/.exec(first.id)![1]);
    const [west, south, east, north] = tiles().find((t) => t.index === index)!.bbox;
    const onTile = scenes.filter((scene) => scene.id.endsWith(`_T${String(index).padStart(2, '0')}`));
    return { day, scenes: onTile.length, bbox: [west + 0.1, south + 0.1, east - 0.1, north - 0.1] };
  }
  throw new Error(`no day with scenes in s3://${BUCKET}/catalog/`);
}

const kv = (key: string, value: Record<string, unknown>) => ({ key, value });
const nanos = (date: Date) => String(BigInt(date.getTime()) * 1_000_000n);

/** An OTLP JSON logs document as the Collector's awss3 exporter writes it: one log record of the trace. */
function otlpLogs(record: Record<string, unknown>, traceId: string, spanId: string) {
  return {
    resourceLogs: [
      {
        resource: { attributes: [kv('service.name', { stringValue: 'elsewhere-test' })] },
        scopeLogs: [
          {
            logRecords: [
              {
                timeUnixNano: nanos(new Date()),
                observedTimeUnixNano: nanos(new Date()),
                traceId,
                spanId,
                ...record,
              },
            ],
          },
        ],
      },
    ],
  };
}

function searchEvent(eventId: string, user: string) {
  return {
    eventName: 'search_made',
    body: {
      kvlistValue: {
        values: [
          kv('query', { stringValue: `q ${user}` }),
          kv('n_results', { intValue: '3' }),
          kv('user_id', { stringValue: user }),
        ],
      },
    },
    attributes: [
      kv('event.id', { stringValue: eventId }),
      kv('event.schema_version', { stringValue: '1-0-0' }),
    ],
  };
}

/** Puts a raw object where the Collector would (hourly partition, key ending in a UUIDv7); returns its key. */
async function putRaw(zone: 'events' | 'logs', document: unknown): Promise<string> {
  const hour = recentRawPrefixes()[0]!.replace('raw/events/', `raw/${zone}/`);
  const key = `${hour}elsewhere-${run}_${uuidv7()}.json.gz`;
  await elsewhere().put(key, gzipSync(JSON.stringify(document)), 'application/json');
  return key;
}

describe('The lake, the ETL and the trace command on another S3 store', () => {
  it('runs a crop-statistics job through the listener, reading scenes from and writing results to the other bucket', async () => {
    listener = await startListener({ ...env, OBSERVATORY_ETL_CONCURRENCY: '2' });
    const tile = await tileWithScenes();
    job = await listener.runJob({ bbox: tile.bbox, from: tile.day, to: tile.day });
    expect(job.status).toBe('done');
    expect(job.chunks).toMatchObject({ total: 1, done: 1, failed: 0 });

    // The worker read the tile's scenes and their rasters from the other bucket, and wrote its row there.
    const row = await elsewhere().getJson<{ job_id: string; scenes: number; n_pixels: number }>(
      resultKey(job.id, 0),
    );
    expect(row).toMatchObject({ job_id: job.id, scenes: tile.scenes });
    expect(row!.n_pixels).toBeGreaterThan(0);
    expect(await defaultStore().find(resultKey(job.id, 0))).toBeUndefined();
    expect(gate.refused()).toEqual([]);
  });

  it('compacts raw events of the other bucket and answers `lake query` from its curated zone', async () => {
    const user = `elsewhere-${run}`;
    const eventId = uuidv7();
    const spanId = '0123456789abcdef';
    await putRaw('events', otlpLogs(searchEvent(eventId, user), job.trace_id, spanId));

    const compacted = await lake('compact', '--json');
    expect(compacted.status, compacted.stderr).toBe(0);
    expect(JSON.parse(compacted.stdout)).toMatchObject({ events: expect.any(Number) });
    expect((JSON.parse(compacted.stdout) as { events: number }).events).toBeGreaterThanOrEqual(1);

    const queried = await lake(
      'query',
      `SELECT event_id, user_id FROM events WHERE user_id = '${user}'`,
      '--json',
    );
    expect(queried.status, queried.stderr).toBe(0);
    expect(JSON.parse(queried.stdout)).toEqual([{ event_id: eventId, user_id: user }]);

    // The default bucket's lake knows nothing of it.
    const curatedHere = await elsewhere().list('curated/events/event_name=search_made/');
    expect(curatedHere.length).toBeGreaterThan(0);
    const defaultKeys = new Set((await defaultStore().list('curated/events/')).map((o) => o.key));
    expect(curatedHere.filter((o) => defaultKeys.has(o.key))).toEqual([]);
    expect(gate.refused()).toEqual([]);
  });

  it('shows the job’s trace with the logs and events the other bucket holds for it, and none of the default one’s', async () => {
    const trace = await jobTrace(job);
    const spanId = trace.spans.find((s) => s.operationName === `etl.job ${job.kind}`)!.spanID;
    const marker = `elsewhere log ${run}`;
    await putRaw(
      'logs',
      otlpLogs({ severityText: 'INFO', body: { stringValue: marker } }, job.trace_id, spanId),
    );
    const rawEventId = uuidv7();
    await putRaw('events', otlpLogs(searchEvent(rawEventId, `raw-${run}`), job.trace_id, spanId));

    let out = '';
    let err = '';
    const code = await traceCommand([job.trace_id, '--json'], {
      out: (text) => (out += text),
      err: (text) => (err += text),
      env: { ...process.env, ...env },
      isTTY: false,
    });
    expect(code, err).toBe(0);
    const doc = JSON.parse(out) as TraceDocument;
    expect(doc.trace_id).toBe(job.trace_id);
    // Exactly the log written to the other bucket; the listener's and workers' own logs went to the default one.
    expect(doc.logs.map((l) => l.body)).toEqual([marker]);
    expect(doc.logs[0]!.span_id).toBe(spanId);
    const events = doc.events.map((e) => ({
      user: (e.properties as { user_id: string }).user_id,
      source: e.source,
    }));
    expect(events).toContainEqual({ user: `elsewhere-${run}`, source: 'curated' });
    expect(events).toContainEqual({ user: `raw-${run}`, source: 'raw' });
    // The workers' tile_processed events for this trace are in the default bucket only.
    expect(doc.events.filter((e) => e.event_name === 'tile_processed')).toEqual([]);
    expect(gate.refused()).toEqual([]);
    expect(gate.requests.length).toBeGreaterThan(0);
  });
});
