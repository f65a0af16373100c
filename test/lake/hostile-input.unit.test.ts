/**
 * No path from telemetry data to the file system, and no unbounded work from one raw object: partition values are
 * reduced to safe tokens, the lake cache refuses keys that resolve outside its folder, the S3 store is never handed
 * a key that climbs with `..`, decompression stops at a bound, and a record over the size limit becomes a
 * `too_large` rejected row instead of being flattened whole.
 */
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { decompressedText, DecompressedTooLargeError } from '../../common/compression.ts';
import { checkedKey, S3Store, UnsafeKeyError } from '../../common/s3-store.ts';
import { cachePath } from '../../lake/cache.ts';
import { failureType } from '../../lake/compact.ts';
import { Flattener, type OtlpLogsDocument } from '../../lake/flatten.ts';
import { jsonBytesBeyond, takeOversized } from '../../lake/oversize.ts';
import { isPartitionToken, partitionValue } from '../../lake/tables.ts';

const kv = (key: string, value: object) => ({ key, value });
const TRAVERSAL = 'x/../../../../../../../../tmp/observatory-escape/evil';

describe('A partition value', () => {
  it('keeps names that are already safe as they are', () => {
    for (const name of [
      'search_made',
      'schema_violation',
      'http.server.request.duration',
      '2026-06-01',
      'A-z_0.9',
    ]) {
      expect(partitionValue(name)).toBe(name);
    }
  });

  it('turns separators, dots at the start and anything outside [A-Za-z0-9._-] into underscores', () => {
    expect(partitionValue(TRAVERSAL)).toBe('x_.._.._.._.._.._.._.._.._tmp_observatory-escape_evil');
    expect(partitionValue('..')).toBe('_.');
    expect(partitionValue('.')).toBe('_');
    expect(partitionValue('.hidden')).toBe('_hidden');
    expect(partitionValue('a\\b=c%d e\u0000f\nü')).toBe('a_b_c_d_e_f__');
    expect(partitionValue('')).toBe('_');
  });

  it('cuts a long value to 100 characters with a hash of the whole, so two long values stay apart', () => {
    const a = partitionValue(`${'r'.repeat(300)}a`);
    const b = partitionValue(`${'r'.repeat(300)}b`);
    expect(a).toHaveLength(100);
    expect(a).not.toBe(b);
  });

  it('is a token once reduced: reducing again changes nothing', () => {
    for (const value of [TRAVERSAL, '..', 'x'.repeat(500), '/etc/passwd', 'ok']) {
      const token = partitionValue(value);
      expect(isPartitionToken(token)).toBe(true);
      expect(partitionValue(token)).toBe(token);
      expect(token.split('/')).toEqual([token]);
    }
    expect(isPartitionToken(TRAVERSAL)).toBe(false);
  });

  it("is what a producer's rejected reason becomes: the traversal lands in a safe partition", () => {
    const document: OtlpLogsDocument = {
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: '1780317296789000000',
                  eventName: 'search_made',
                  body: { stringValue: '{}' },
                  attributes: [
                    kv('event.id', { stringValue: '0190b7a2-0000-7000-8000-000000000001' }),
                    kv('event.rejected_reason', { stringValue: TRAVERSAL }),
                  ],
                },
              ],
            },
          ],
        },
      ],
    };
    const flat = new Flattener().flatten(document);
    expect(flat.rejected).toHaveLength(1);
    expect(flat.rejected[0]!.reason).toBe(partitionValue(TRAVERSAL));
    expect(isPartitionToken(flat.rejected[0]!.reason)).toBe(true);
  });
});

describe('The lake cache', () => {
  const cache = join('/', 'var', 'cache', 'lake');

  it('maps a key under its folder', () => {
    expect(cachePath(cache, 'curated/events/event_name=a/dt=2026-01-01/part-1.parquet')).toBe(
      join(cache, 'curated/events/event_name=a/dt=2026-01-01/part-1.parquet'),
    );
    expect(cachePath(cache, 'curated/logs/')).toBe(join(cache, 'curated/logs'));
  });

  it('refuses any key that resolves outside its folder or names a parent, an absolute path or a backslash', () => {
    for (const key of [
      `curated/rejected/reason=${TRAVERSAL}/dt=2026-01-01/part-1.parquet`,
      '../lake-other/curated/x.parquet',
      'curated/../../x.parquet',
      'curated/./x.parquet',
      'curated//x.parquet',
      '/etc/x.parquet',
      'curated\\..\\..\\x.parquet',
      'curated/x\u0000.parquet',
      '',
      '..',
    ]) {
      expect(cachePath(cache, key), key).toBeUndefined();
    }
  });
});

describe('The S3 store', () => {
  it('refuses to hand a key with ".." (or "." or empty) segments to the store, before any request', async () => {
    for (const key of [TRAVERSAL, '../x', 'a/./b', 'a//b', '/a', '..', 'a/..', 'a\\..\\b']) {
      expect(() => checkedKey(key), key).toThrow(UnsafeKeyError);
    }
    expect(checkedKey('curated/events/event_name=a/dt=2026-01-01/part-1.parquet')).toBeTruthy();
    // No endpoint is reachable at this address: the refusal must come before the request.
    const store = new S3Store(
      new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true }),
      'bucket',
    );
    await expect(store.put(`curated/rejected/reason=${TRAVERSAL}/x.parquet`, 'x')).rejects.toThrow(
      /refused object key/,
    );
  });
});

describe('Decompressing a raw object', () => {
  const json = JSON.stringify({ resourceLogs: [{ body: 'a'.repeat(4 << 20) }] });

  it('returns the text while it stays within the bound', () => {
    expect(decompressedText('x.json.gz', gzipSync(json), 8 << 20)).toBe(json);
    expect(decompressedText('x.json.zst', zstdCompressSync(json), 8 << 20)).toBe(json);
    expect(decompressedText('x.json', Buffer.from(json), 8 << 20)).toBe(json);
  });

  it('stops at the bound: a few KiB of gzip that would inflate to 64 MiB are refused, not inflated', () => {
    const bomb = gzipSync(Buffer.alloc(64 << 20, 0x20));
    expect(bomb.length).toBeLessThan(100 << 10);
    expect(() => decompressedText('bomb.json.gz', bomb, 1 << 20)).toThrow(DecompressedTooLargeError);
    expect(() =>
      decompressedText('bomb.json.zst', zstdCompressSync(Buffer.alloc(64 << 20)), 1 << 20),
    ).toThrow(/decompresses to more than 1048576 bytes/);
    expect(() => decompressedText('plain.json', Buffer.alloc(2 << 20), 1 << 20)).toThrow(
      DecompressedTooLargeError,
    );
    expect(failureType(new DecompressedTooLargeError('k', 1).message)).toBe('too_large');
  });
});

describe('A record over the size limit', () => {
  const logs = (...bodies: string[]): OtlpLogsDocument => ({
    resourceLogs: [
      {
        resource: { attributes: [kv('service.name', { stringValue: 'gateway' })] },
        scopeLogs: [
          {
            logRecords: bodies.map((body, i) => ({
              timeUnixNano: '1780317296789000000',
              body: { stringValue: body },
              traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
              spanId: '00f067aa0ba902b7',
              attributes: [kv('n', { intValue: String(i) })],
            })),
          },
        ],
      },
    ],
  });

  it('is taken out of the document as a too_large rejected row with its identity and the start of its content', () => {
    const big = 'b'.repeat(3 << 20);
    const document = logs('small', big, 'small too');
    const rows = takeOversized('logs', document, 1 << 20);
    expect(document.resourceLogs![0]!.scopeLogs![0]!.logRecords!.map((r) => r.body?.stringValue)).toEqual([
      'small',
      'small too',
    ]);
    expect(rows).toEqual([
      expect.objectContaining({
        reason: 'too_large',
        dt: '2026-06-01',
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        service_name: 'gateway',
        payload_truncated: true,
      }),
    ]);
    expect(rows[0]!.payload.length).toBeLessThanOrEqual(4096);
    expect(JSON.parse(rows[0]!.errors)).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/log record of more than 1048576 bytes/) }),
    ]);
  });

  it('gets the same ID on every delivery, so a redelivered one is deduplicated', () => {
    const big = 'c'.repeat(2 << 20);
    const [first] = takeOversized('logs', logs(big), 1 << 20);
    const [again] = takeOversized('logs', logs(big), 1 << 20);
    const [other] = takeOversized('logs', logs(`${big}!`), 1 << 20);
    expect(first!.event_id).toBe(again!.event_id);
    expect(first!.event_id).not.toBe(other!.event_id);
  });

  it('is found for spans and data points too, and measured only until the limit is passed', () => {
    const spans = {
      resourceSpans: [
        {
          scopeSpans: [
            { spans: [{ name: 'GET /', attributes: [kv('big', { stringValue: 'x'.repeat(2000) })] }] },
          ],
        },
      ],
    };
    expect(takeOversized('traces', spans, 1000)).toEqual([expect.objectContaining({ event_name: 'GET /' })]);
    expect(spans.resourceSpans[0]!.scopeSpans[0]!.spans).toEqual([]);
    const points = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'm',
                  gauge: {
                    dataPoints: [
                      { asInt: '1' },
                      { attributes: [kv('a', { stringValue: 'y'.repeat(2000) })] },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    expect(takeOversized('metrics', points, 1000)).toEqual([expect.objectContaining({ event_name: 'm' })]);
    expect(points.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.gauge.dataPoints).toEqual([
      { asInt: '1' },
    ]);
    const many = Array.from({ length: 1_000_000 }, () => 'abcdefgh');
    expect(jsonBytesBeyond(many, 1000)).toBeGreaterThan(1000);
    expect(jsonBytesBeyond(['abc', { k: 1 }], 1000)).toBe(4 + 5 + 5 + 8);
  });
});
