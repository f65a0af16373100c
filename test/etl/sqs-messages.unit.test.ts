/**
 * What the SQS path accepts from a queue body: anyone who can write to the queue can put anything there, so a body
 * that is not a chunk or result message is named as such (and then dead-lettered or deleted), never thrown.
 */
import { describe, expect, it } from 'vitest';
import {
  chunkMessageAttributes,
  deadLetterQueueName,
  messageGroup,
  parseChunkMessage,
  parseResultMessage,
  type ChunkMessage,
} from '../../etl/sqs/queues.ts';

const chunk = {
  function: 'crop_stats',
  event: {
    job_id: 'job-1',
    kind: 'crop_stats',
    chunk_index: 0,
    chunk_count: 1,
    attempt: 1,
    payload: {},
    trace: {},
  },
};

describe('A chunk message body', () => {
  it('parses when it is a chunk message', () => {
    expect(parseChunkMessage(JSON.stringify(chunk))).toEqual(chunk);
  });

  it.each([
    [undefined, /no body/],
    ['not json {', /not JSON/],
    ['[1,2]', /not a JSON object/],
    ['"text"', /not a JSON object/],
    [JSON.stringify({ ...chunk, function: 'rm -rf' }), /^function: expected one of crop_stats, compaction/],
    [JSON.stringify({ function: 'crop_stats' }), /^event: expected an object/],
    [JSON.stringify({ ...chunk, event: { ...chunk.event, job_id: 7 } }), /^event\.job_id/],
    [JSON.stringify({ ...chunk, event: { ...chunk.event, chunk_index: -1 } }), /^event\.chunk_index/],
    [JSON.stringify({ ...chunk, event: { ...chunk.event, trace: null } }), /^event\.trace/],
  ])('is refused with the reason when it is %s', (body, reason) => {
    expect(parseChunkMessage(body)).toMatch(reason);
  });
});

describe('A result message body', () => {
  const result = {
    job_id: 'job-1',
    chunk_index: 0,
    attempt: 1,
    final: true,
    result: { ok: true, billedMs: 3, coldStart: true, invocationId: 'x' },
  };

  it('parses when it is a result message', () => {
    expect(parseResultMessage(JSON.stringify(result))).toEqual(result);
  });

  it.each([
    ['{', /not JSON/],
    [JSON.stringify({ ...result, job_id: undefined }), /^job_id/],
    [JSON.stringify({ ...result, chunk_index: 'a' }), /^chunk_index/],
    [JSON.stringify({ ...result, attempt: 0 }), /^attempt/],
    [JSON.stringify({ ...result, final: 'yes' }), /^final/],
    [JSON.stringify({ ...result, result: {} }), /^result/],
  ])('is refused with the reason when it is %s', (body, reason) => {
    expect(parseResultMessage(body)).toMatch(reason);
  });
});

describe('The chunk queue', () => {
  const compaction = (signal: unknown, chunk: number): ChunkMessage =>
    ({
      function: 'compaction',
      event: { ...chunk_(chunk), kind: 'compaction', payload: { signal, keys: ['raw/x'] } },
    }) as ChunkMessage;
  const chunk_ = (index: number) => ({ ...chunk.event, chunk_index: index });

  it('puts compaction chunks of one signal in one message group, and every other chunk in a group of its own', () => {
    expect(messageGroup(compaction('logs', 0))).toBe(messageGroup(compaction('logs', 1)));
    expect(messageGroup(compaction('logs', 0))).not.toBe(messageGroup(compaction('traces', 0)));
    expect(messageGroup(compaction(undefined, 0))).toBe('compaction/all');
    const crop = (index: number) => ({ function: 'crop_stats', event: chunk_(index) }) as ChunkMessage;
    expect(messageGroup(crop(0))).not.toBe(messageGroup(crop(1)));
  });

  it('sends a group and one deduplication ID per chunk to a FIFO queue, and neither to a standard one', () => {
    const message = compaction('events', 3);
    expect(chunkMessageAttributes('http://sqs/000000000000/chunks.fifo', message)).toEqual({
      MessageGroupId: 'compaction/events',
      MessageDeduplicationId: 'job-1/3',
    });
    expect(chunkMessageAttributes('http://sqs/000000000000/chunks', message)).toEqual({});
  });

  it('names the dead-letter queue of a FIFO queue as a FIFO queue', () => {
    expect(deadLetterQueueName('observatory-etl-chunks.fifo')).toBe('observatory-etl-chunks-dlq.fifo');
    expect(deadLetterQueueName('observatory-etl-chunks')).toBe('observatory-etl-chunks-dlq');
  });
});
