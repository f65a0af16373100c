/**
 * The trace command's S3 reader against the real store: an object the awss3 exporter wrote as JSON lines (several
 * OTLP JSON documents, one per line, when its queue batched requests) is read line by line, not skipped; its hour
 * folders are listed as folders.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { S3Store } from '../../common/s3-store.ts';
import { traceConfig } from '../../trace/config.ts';
import { hourPrefixes, SignalReader } from '../../trace/signal-reader.ts';

const logs = (traceId: string, body: string, service: string) => ({
  resourceLogs: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeLogs: [
        {
          logRecords: [
            {
              timeUnixNano: String(Date.now() * 1e6),
              severityText: 'INFO',
              body: { stringValue: body },
              traceId,
              spanId: randomBytes(8).toString('hex'),
            },
          ],
        },
      ],
    },
  ],
});

describe('The trace command’s log reader', () => {
  it('reads every line of an object written as JSON lines', async () => {
    const run = randomUUID().slice(0, 8);
    const config = { ...traceConfig(), logsPrefix: `test-signal-reader-${run}/` };
    const store = S3Store.fromSettings(config.lake.s3);
    const traceId = randomBytes(16).toString('hex');
    const now = Date.now();
    const [hour] = hourPrefixes(config.logsPrefix, now, now);
    const lines = [logs(traceId, 'first batch', 'catalog'), logs(traceId, 'second batch', 'gateway')];
    await store.put(
      `${hour}logs-${run}.json`,
      lines.map((d) => JSON.stringify(d)).join('\n'),
      'application/json',
    );
    // Hour folders are listed as folders: a listing at any depth, the local store answers by walking the bucket.
    const walked = vi.spyOn(store, 'list');
    const found = await new SignalReader(config, store).logs(traceId, now, now);
    expect(found.map((l) => [l.service, l.body]).sort()).toEqual([
      ['catalog', 'first batch'],
      ['gateway', 'second batch'],
    ]);
    expect(walked).not.toHaveBeenCalled();
  });
});
