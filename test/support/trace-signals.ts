/**
 * The log records and business events carrying one trace ID, read straight from the raw zone of the S3 store
 * (every object of the last two hours), independently of `observatory trace`: what the command must show.
 */
import { decodeAnyValue, type OtlpLogsDocument } from '../../lake/index.ts';
import { listKeys, readObject } from './backends.ts';
import { pollUntil } from './poll.ts';

export interface RawRecord {
  /** `event.id` for events; undefined for logs. */
  eventId: string | undefined;
  eventName: string | undefined;
  body: unknown;
  spanId: string;
  service: string | undefined;
}

function hourPrefixes(root: string, now = new Date()): string[] {
  return [1, 0].map((hoursAgo) => {
    const t = new Date(now.getTime() - hoursAgo * 3_600_000);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${root}year=${t.getUTCFullYear()}/month=${p(t.getUTCMonth() + 1)}/day=${p(t.getUTCDate())}/hour=${p(t.getUTCHours())}/`;
  });
}

const cache = new Map<string, string>();

/** Every record with this trace ID under `root` (raw/logs/ or raw/events/) written in the last two hours. */
async function rawRecords(root: string, traceId: string): Promise<RawRecord[]> {
  const records: RawRecord[] = [];
  for (const prefix of hourPrefixes(root)) {
    for (const key of await listKeys(prefix)) {
      let text = cache.get(key);
      if (text === undefined) {
        text = await readObject(key);
        cache.set(key, text);
      }
      if (!text.includes(traceId)) continue;
      const document = JSON.parse(text) as OtlpLogsDocument;
      for (const resourceLogs of document.resourceLogs ?? []) {
        const service = resourceLogs.resource?.attributes?.find((a) => a.key === 'service.name');
        for (const scopeLogs of resourceLogs.scopeLogs ?? []) {
          for (const record of scopeLogs.logRecords ?? []) {
            if (record.traceId !== traceId) continue;
            const id = record.attributes?.find((a) => a.key === 'event.id');
            records.push({
              eventId: id ? String(decodeAnyValue(id.value)) : undefined,
              eventName: record.eventName,
              body: decodeAnyValue(record.body),
              spanId: record.spanId ?? '',
              service: service ? String(decodeAnyValue(service.value)) : undefined,
            });
          }
        }
      }
    }
  }
  return records;
}

/**
 * Waits until the trace's logs and events include what `ready` asks for and have stopped arriving (the same count
 * twice, a second apart); returns them.
 */
export async function settledSignals(
  traceId: string,
  ready: (signals: { logs: RawRecord[]; events: RawRecord[] }) => boolean,
  timeoutMs = 30_000,
): Promise<{ logs: RawRecord[]; events: RawRecord[] }> {
  let previous = -1;
  return pollUntil(
    `the logs and events of trace ${traceId} in raw/logs/ and raw/events/`,
    async () => {
      const signals = {
        logs: await rawRecords('raw/logs/', traceId),
        events: await rawRecords('raw/events/', traceId),
      };
      const count = signals.logs.length + signals.events.length;
      const settled = ready(signals) && count === previous;
      previous = count;
      return settled ? signals : undefined;
    },
    { timeoutMs, intervalMs: 1000 },
  );
}
