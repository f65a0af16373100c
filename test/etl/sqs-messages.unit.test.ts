/**
 * What the SQS path accepts from a queue body: anyone who can write to the queue can put anything there, so a body
 * that is not a chunk or result message is named as such (and then dead-lettered or deleted), never thrown.
 */
import { describe, expect, it } from 'vitest';
import { parseChunkMessage, parseResultMessage } from '../../etl/sqs/queues.ts';

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
