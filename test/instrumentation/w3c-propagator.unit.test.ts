/**
 * The W3C Trace Context test harness (w3c/trace-context, test/test.py, STRICT_LEVEL=2 SPEC_LEVEL=2) as unit tests:
 * one test per harness case, named after it, with the same headers and the same assertions. Like the harness, each
 * case sends headers to a real HTTP server (so Node's own header handling applies: names lower-cased, repeated
 * `tracestate` lines joined), the "service" continues the trace with a real SDK span per callback, and the outgoing
 * headers are read back with the harness's own parsing rules. The harness itself runs against the gateway; see
 * docs/demo.md.
 */
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { W3CTraceContextLevel2Propagator } from '../../instrumentation/src/w3c-propagator.ts';
import { parseTraceState, StrictTraceState } from '../../instrumentation/src/w3c-tracestate.ts';

const propagator: TextMapPropagator = new W3CTraceContextLevel2Propagator();
const tracer = new TracerProvider().getTracer('w3c-harness');

const TRACE_ID = '12345678901234567890123456789012';
const PARENT_ID = '1234567890123456';
const TP_SAMPLED = `00-${TRACE_ID}-${PARENT_ID}-01`;
const TP_UNSAMPLED = `00-${TRACE_ID}-${PARENT_ID}-00`;

// A loopback server that answers with the headers Node parsed: what an instrumented service's propagator sees.
let port = 0;
const server = createServer((req, res) => res.end(JSON.stringify(req.headers)));
beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve())));
beforeAll(() => {
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends the header lines as given (repeated names, any casing) and returns `req.headers` as Node built it. */
function received(headers: [string, string][]): Promise<IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    // Header lines as an array go out exactly as given; Host is then ours to send.
    const raw = [['host', `127.0.0.1:${port}`], ...headers].flat();
    const req = request({ host: '127.0.0.1', port, method: 'POST', headers: raw }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body) as IncomingHttpHeaders));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Traceparent {
  version: string;
  traceId: string;
  parentId: string;
  flags: number;
}

/** The harness' reading of `traceparent`: exactly one, four lowercase-hex fields. */
function harnessTraceparent(value: string | undefined): Traceparent {
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value ?? '');
  expect(match, `one valid traceparent, got ${JSON.stringify(value)}`).not.toBeNull();
  return { version: match![1]!, traceId: match![2]!, parentId: match![3]!, flags: parseInt(match![4]!, 16) };
}

/** The harness' reading of `tracestate` (tracecontext/tracestate.py): first of a duplicated key wins. */
function harnessTracestate(value: string | undefined): Map<string, string> {
  const traits = new Map<string, string>();
  for (const member of (value ?? '').split(/[ \t]*,[ \t]*/)) {
    if (!member) continue;
    const match =
      /^([0-9a-z][_0-9a-z\-*/@]{0,255})(=)([\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e])$/.exec(
        member,
      );
    expect(match, `a legal tracestate member, got ${JSON.stringify(member)}`).not.toBeNull();
    if (!traits.has(match![1]!)) traits.set(match![1]!, match![3]!);
  }
  return traits;
}

interface Callback {
  traceparent: Traceparent;
  tracestate: Map<string, string>;
  /** The tracestate as sent, for the harness' `'foo=1' in str(tracestate)` checks. */
  raw: string;
}

/**
 * The test service: receives `headers`, starts its server span under the extracted context, and makes `count`
 * callbacks, each from its own client span, returning what each callback carried.
 */
async function service(headers: [string, string][], count = 1): Promise<Callback[]> {
  const incoming = await received(headers);
  const parent = propagator.extract(ROOT_CONTEXT, incoming, defaultTextMapGetter);
  const serverSpan = tracer.startSpan('POST /test', { kind: SpanKind.SERVER }, parent);
  const serverContext = trace.setSpan(parent, serverSpan);
  const callbacks: Callback[] = [];
  for (let i = 0; i < count; i++) {
    const client = tracer.startSpan('POST /callback', { kind: SpanKind.CLIENT }, serverContext);
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(serverContext, client), carrier, defaultTextMapSetter);
    client.end();
    callbacks.push({
      traceparent: harnessTraceparent(carrier.traceparent),
      tracestate: harnessTracestate(carrier.tracestate),
      raw: carrier.tracestate ?? '',
    });
  }
  serverSpan.end();
  return callbacks;
}

const single = async (headers: [string, string][]) => (await service(headers))[0]!;

describe('W3C harness: TraceContextTest', () => {
  it('test_both_traceparent_and_tracestate_missing', async () => {
    const { traceparent } = await single([]);
    expect(traceparent.traceId).not.toBe('0'.repeat(32));
  });

  it('test_traceparent_included_tracestate_missing', async () => {
    const { traceparent } = await single([['traceparent', TP_SAMPLED]]);
    expect(traceparent.traceId).toBe(TRACE_ID);
    expect(traceparent.parentId).not.toBe(PARENT_ID);
  });

  it('test_traceparent_duplicated', async () => {
    const { traceparent } = await single([
      ['traceparent', `00-12345678901234567890123456789011-${PARENT_ID}-01`],
      ['traceparent', TP_SAMPLED],
    ]);
    expect(traceparent.traceId).not.toBe('12345678901234567890123456789011');
    expect(traceparent.traceId).not.toBe(TRACE_ID);
  });

  it('test_traceparent_header_name', async () => {
    for (const name of ['trace-parent', 'trace.parent']) {
      const { traceparent } = await single([[name, TP_SAMPLED]]);
      expect(traceparent.traceId).not.toBe(TRACE_ID);
    }
  });

  it('test_traceparent_header_name_valid_casing', async () => {
    for (const name of ['TraceParent', 'TrAcEpArEnT', 'TRACEPARENT']) {
      const { traceparent } = await single([[name, TP_SAMPLED]]);
      expect(traceparent.traceId).toBe(TRACE_ID);
    }
  });

  // Each rejected traceparent must start a new trace (the harness' "newly generated trace_id").
  const rejected: [string, string[]][] = [
    ['test_traceparent_version_0x00', [`${TP_SAMPLED}.`, `${TP_SAMPLED}-what-the-future-will-be-like`]],
    ['test_traceparent_version_0xff', [`ff-${TRACE_ID}-${PARENT_ID}-01`]],
    [
      'test_traceparent_version_illegal_characters',
      [`.0-${TRACE_ID}-${PARENT_ID}-01`, `0.-${TRACE_ID}-${PARENT_ID}-01`],
    ],
    [
      'test_traceparent_version_too_long',
      [`000-${TRACE_ID}-${PARENT_ID}-01`, `0000-${TRACE_ID}-${PARENT_ID}-01`],
    ],
    ['test_traceparent_version_too_short', [`0-${TRACE_ID}-${PARENT_ID}-01`]],
    ['test_traceparent_parent_id_all_zero', [`00-${TRACE_ID}-0000000000000000-01`]],
    [
      'test_traceparent_parent_id_illegal_characters',
      [`00-${TRACE_ID}-.234567890123456-01`, `00-${TRACE_ID}-123456789012345.-01`],
    ],
    ['test_traceparent_parent_id_too_long', [`00-${TRACE_ID}-12345678901234567-01`]],
    ['test_traceparent_parent_id_too_short', [`00-${TRACE_ID}-123456789012345-01`]],
    [
      'test_traceparent_trace_flags_illegal_characters',
      [`00-${TRACE_ID}-${PARENT_ID}-.0`, `00-${TRACE_ID}-${PARENT_ID}-0.`],
    ],
    ['test_traceparent_trace_flags_too_long', [`00-${TRACE_ID}-${PARENT_ID}-001`]],
    ['test_traceparent_trace_flags_too_short', [`00-${TRACE_ID}-${PARENT_ID}-1`]],
  ];
  it.each(rejected)('%s', async (_, values) => {
    for (const value of values) {
      const { traceparent } = await single([['traceparent', value]]);
      expect(traceparent.traceId, value).not.toBe(TRACE_ID);
    }
  });

  it('test_traceparent_version_0xcc', async () => {
    expect((await single([['traceparent', `cc-${TRACE_ID}-${PARENT_ID}-01`]])).traceparent.traceId).toBe(
      TRACE_ID,
    );
    const future = `cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-will-be-like`;
    expect((await single([['traceparent', future]])).traceparent.traceId).toBe(TRACE_ID);
    const broken = `cc-${TRACE_ID}-${PARENT_ID}-01.what-the-future-will-be-like`;
    expect((await single([['traceparent', broken]])).traceparent.traceId).not.toBe(TRACE_ID);
  });

  it('test_traceparent_trace_id_all_zero', async () => {
    const { traceparent } = await single([['traceparent', `00-${'0'.repeat(32)}-${PARENT_ID}-01`]]);
    expect(traceparent.traceId).not.toBe('0'.repeat(32));
  });

  it('test_traceparent_trace_id_illegal_characters', async () => {
    for (const id of ['.2345678901234567890123456789012', '1234567890123456789012345678901.']) {
      const { traceparent } = await single([['traceparent', `00-${id}-${PARENT_ID}-01`]]);
      expect(traceparent.traceId).not.toBe(id);
    }
  });

  it('test_traceparent_trace_id_too_long', async () => {
    const { traceparent } = await single([['traceparent', `00-${TRACE_ID}3-${PARENT_ID}-01`]]);
    expect([`${TRACE_ID}3`, TRACE_ID, '23456789012345678901234567890123']).not.toContain(traceparent.traceId);
  });

  it('test_traceparent_trace_id_too_short', async () => {
    const { traceparent } = await single([['traceparent', `00-${TRACE_ID.slice(0, 31)}-${PARENT_ID}-01`]]);
    expect(traceparent.traceId).not.toBe(TRACE_ID.slice(0, 31));
  });

  it('test_traceparent_ows_handling', async () => {
    for (const value of [` ${TP_SAMPLED}`, `\t${TP_SAMPLED}`, `${TP_SAMPLED} `, `${TP_SAMPLED}\t`]) {
      expect((await single([['traceparent', value]])).traceparent.traceId).toBe(TRACE_ID);
    }
    expect((await single([['traceparent', `\t ${TP_SAMPLED} \t`]])).traceparent.traceId).toBe(TRACE_ID);
  });

  it('test_tracestate_included_traceparent_missing', async () => {
    const one = await single([['tracestate', 'foo=1']]);
    const two = await single([['tracestate', 'foo=1,bar=2']]);
    expect(one.tracestate.size).toBe(two.tracestate.size);
  });

  it('test_tracestate_included_traceparent_included', async () => {
    const { traceparent, tracestate } = await single([
      ['traceparent', TP_UNSAMPLED],
      ['tracestate', 'foo=1,bar=2'],
    ]);
    expect(traceparent.traceId).toBe(TRACE_ID);
    expect(tracestate.get('foo')).toBe('1');
    expect(tracestate.get('bar')).toBe('2');
  });

  it('test_tracestate_header_name', async () => {
    for (const name of ['trace-state', 'trace.state']) {
      const { tracestate } = await single([
        ['traceparent', TP_UNSAMPLED],
        [name, 'foo=1'],
      ]);
      expect(tracestate.has('foo')).toBe(false);
    }
  });

  it('test_tracestate_header_name_valid_casing', async () => {
    for (const name of ['TraceState', 'TrAcEsTaTe', 'TRACESTATE']) {
      const { tracestate } = await single([
        ['traceparent', TP_UNSAMPLED],
        [name, 'foo=1'],
      ]);
      expect(tracestate.get('foo')).toBe('1');
    }
  });

  it('test_tracestate_empty_header', async () => {
    const empty = await single([
      ['traceparent', TP_UNSAMPLED],
      ['tracestate', ''],
    ]);
    expect(empty.traceparent.traceId).toBe(TRACE_ID);
    expect(empty.raw).toBe('');
    for (const headers of [
      [
        ['tracestate', 'foo=1'],
        ['tracestate', ''],
      ],
      [
        ['tracestate', ''],
        ['tracestate', 'foo=1'],
      ],
    ] as [string, string][][]) {
      const { traceparent, tracestate } = await single([['traceparent', TP_UNSAMPLED], ...headers]);
      expect(traceparent.traceId).toBe(TRACE_ID);
      expect(tracestate.get('foo')).toBe('1');
    }
  });

  it('test_tracestate_multiple_headers_different_keys', async () => {
    const { traceparent, raw } = await single([
      ['traceparent', TP_UNSAMPLED],
      ['tracestate', 'foo=1,bar=2'],
      ['tracestate', 'rojo=1,congo=2'],
      ['tracestate', 'baz=3'],
    ]);
    expect(traceparent.traceId).toBe(TRACE_ID);
    const order = ['foo=1', 'bar=2', 'rojo=1', 'congo=2', 'baz=3'].map((member) => raw.indexOf(member));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('test_tracestate_duplicated_keys', async () => {
    const cases: [[string, string][], string[]][] = [
      [[['tracestate', 'foo=1,foo=1']], ['foo=1']],
      [[['tracestate', 'foo=1,foo=2']], ['foo=1', 'foo=2']],
      [
        [
          ['tracestate', 'foo=1'],
          ['tracestate', 'foo=1'],
        ],
        ['foo=1'],
      ],
      [
        [
          ['tracestate', 'foo=1'],
          ['tracestate', 'foo=2'],
        ],
        ['foo=1', 'foo=2'],
      ],
    ];
    for (const [headers, acceptable] of cases) {
      const { traceparent, raw } = await single([['traceparent', TP_UNSAMPLED], ...headers]);
      expect(traceparent.traceId).toBe(TRACE_ID);
      expect(
        acceptable.some((member) => raw.includes(member)),
        raw,
      ).toBe(true);
    }
  });

  it('test_tracestate_all_allowed_characters', async () => {
    const keyWithoutVendor = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
    const keyWithVendor = `${keyWithoutVendor}@a-z0-9_-*/`;
    const range = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i)).join('');
    const value = range(0x20, 0x2b) + range(0x2d, 0x3c) + range(0x3e, 0x7e);
    for (const key of [keyWithoutVendor, keyWithVendor]) {
      const { tracestate } = await single([
        ['traceparent', TP_UNSAMPLED],
        ['tracestate', `${key}=${value}`],
      ]);
      expect(tracestate.get(key)).toBe(value);
    }
  });

  it('test_tracestate_ows_handling', async () => {
    const three = await single([
      ['traceparent', TP_UNSAMPLED],
      ['tracestate', 'foo=1 \t , \t bar=2, \t baz=3'],
    ]);
    expect(Object.fromEntries(three.tracestate)).toEqual({ foo: '1', bar: '2', baz: '3' });
    const tabs = await single([
      ['traceparent', TP_UNSAMPLED],
      ['tracestate', 'foo=1\t \t,\t \tbar=2,\t \tbaz=3'],
    ]);
    expect(Object.fromEntries(tabs.tracestate)).toEqual({ foo: '1', bar: '2', baz: '3' });
    for (const value of [' foo=1', '\tfoo=1', 'foo=1 ', 'foo=1\t', '\t foo=1 \t']) {
      const { traceparent, tracestate } = await single([
        ['traceparent', TP_UNSAMPLED],
        ['tracestate', value],
      ]);
      expect(traceparent.traceId).toBe(TRACE_ID);
      expect(tracestate.get('foo'), JSON.stringify(value)).toBe('1');
    }
  });

  it('test_tracestate_key_illegal_characters', async () => {
    for (const [header, key] of [
      ['foo =1', 'foo '],
      ['FOO=1', 'FOO'],
      ['foo.bar=1', 'foo.bar'],
    ]) {
      const { tracestate } = await single([
        ['traceparent', TP_UNSAMPLED],
        ['tracestate', header!],
      ]);
      expect(tracestate.has(key!)).toBe(false);
    }
  });

  it('test_tracestate_key_illegal_vendor_format', async () => {
    for (const key of ['foo@', 'foo@@bar', 'foo@bar@baz']) {
      const { tracestate } = await single([
        ['traceparent', TP_UNSAMPLED],
        ['tracestate', `${key}=1,bar=2`],
      ]);
      expect(tracestate.get(key), key).toBe('1');
      expect(tracestate.get('bar')).toBe('2');
    }
    // A key may not start with an at sign: the whole list goes, `bar` included.
    const { tracestate } = await single([
      ['traceparent', TP_UNSAMPLED],
      ['tracestate', '@foo=1,bar=2'],
    ]);
    expect(tracestate.has('bar')).toBe(false);
  });

  it('test_tracestate_member_count_limit', async () => {
    const members = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => {
        const n = String(from + i).padStart(2, '0');
        return `bar${n}=${n}`;
      }).join(',');
    const first30: [string, string][] = [
      ['traceparent', TP_UNSAMPLED],
      ['tracestate', members(1, 10)],
      ['tracestate', members(11, 20)],
      ['tracestate', members(21, 30)],
    ];
    const thirtyTwo = await single([...first30, ['tracestate', members(31, 32)]]);
    expect(thirtyTwo.tracestate.get('bar01')).toBe('01');
    expect(thirtyTwo.tracestate.size).toBe(32);
    const thirtyThree = await single([...first30, ['tracestate', members(31, 33)]]);
    expect(thirtyThree.tracestate.has('bar01')).toBe(false);
  });

  it('test_tracestate_key_length_limit', async () => {
    for (const key of [
      'z'.repeat(256),
      `${'t'.repeat(241)}@${'v'.repeat(14)}`,
      `${'t'.repeat(242)}@v`,
      `t@${'v'.repeat(15)}`,
    ]) {
      const { tracestate } = await single([
        ['traceparent', TP_UNSAMPLED],
        ['tracestate', 'foo=1'],
        ['tracestate', `${key}=1`],
      ]);
      expect(tracestate.get('foo')).toBe('1');
      expect(tracestate.get(key), `key of ${key.length}`).toBe('1');
    }
    const { tracestate } = await single([
      ['traceparent', TP_UNSAMPLED],
      ['tracestate', 'foo=1'],
      ['tracestate', `${'z'.repeat(257)}=1`],
    ]);
    expect(tracestate.has('foo')).toBe(false);
  });

  it('test_tracestate_value_illegal_characters', async () => {
    const equals = await single([
      ['traceparent', TP_UNSAMPLED],
      ['tracestate', 'foo=bar=baz'],
    ]);
    expect(equals.tracestate.has('foo')).toBe(false);
    const empty = await single([
      ['traceparent', TP_UNSAMPLED],
      ['tracestate', 'foo=,bar=3'],
    ]);
    expect(empty.tracestate.has('foo')).toBe(false);
    expect(empty.tracestate.has('bar')).toBe(false);
  });
});

describe('W3C harness: AdvancedTest', () => {
  it('test_multiple_requests_with_valid_traceparent', async () => {
    const callbacks = await service([['traceparent', TP_SAMPLED]], 3);
    expect(new Set(callbacks.map((c) => c.traceparent.traceId))).toEqual(new Set([TRACE_ID]));
    expect(new Set(callbacks.map((c) => c.traceparent.parentId)).size).toBe(3);
  });

  it('test_multiple_requests_without_traceparent', async () => {
    const callbacks = await service([], 3);
    expect(new Set(callbacks.map((c) => c.traceparent.parentId)).size).toBe(3);
  });

  it('test_multiple_requests_with_illegal_traceparent', async () => {
    const callbacks = await service([['traceparent', `00-${'0'.repeat(32)}-${PARENT_ID}-01`]], 3);
    expect(callbacks.map((c) => c.traceparent.traceId)).not.toContain('0'.repeat(32));
    expect(new Set(callbacks.map((c) => c.traceparent.parentId)).size).toBe(3);
  });
});

describe('W3C harness: TraceContext2Test', () => {
  it('test_propagates_random_flag', async () => {
    const { traceparent } = await single([['traceparent', `00-${TRACE_ID}-${PARENT_ID}-02`]]);
    expect(traceparent.traceId).toBe(TRACE_ID);
    expect(traceparent.parentId).not.toBe(PARENT_ID);
    expect(traceparent.flags & 0x02).toBe(0x02);
  });
});

describe('Beyond the harness', () => {
  it('leaves the random flag unset on outgoing headers when the incoming traceparent had it unset', async () => {
    const { traceparent } = await single([['traceparent', TP_SAMPLED]]);
    expect(traceparent.flags).toBe(0x01);
  });

  it('keeps the sampled and random flags together, and sends undefined flags as zero', async () => {
    expect((await single([['traceparent', `00-${TRACE_ID}-${PARENT_ID}-03`]])).traceparent.flags).toBe(0x03);
    expect((await single([['traceparent', `00-${TRACE_ID}-${PARENT_ID}-ff`]])).traceparent.flags).toBe(0x03);
  });

  it('does not carry the random flag over to a new trace started under the same context', async () => {
    const incoming = await received([['traceparent', `00-${TRACE_ID}-${PARENT_ID}-02`]]);
    const parent = propagator.extract(ROOT_CONTEXT, incoming, defaultTextMapGetter);
    const root = tracer.startSpan('new root', { root: true }, parent);
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(parent, root), carrier, defaultTextMapSetter);
    expect(harnessTraceparent(carrier.traceparent).flags & 0x02).toBe(0);
  });

  it('truncates a list longer than 512 characters by whole entries, long ones first', () => {
    const long = `long=${'x'.repeat(200)}`;
    const short = Array.from({ length: 30 }, (_, i) => `k${i}=${'v'.repeat(10)}`).join(',');
    const state = parseTraceState(`${long},${short}`)!;
    expect(state.get('long')).toBeUndefined();
    expect(state.serialize().length).toBeLessThanOrEqual(512);
    expect(state.get('k0')).toBe('v'.repeat(10));
  });

  it('moves a set entry to the front and ignores an invalid one', () => {
    const state = new StrictTraceState([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(state.set('b', '3').serialize()).toBe('b=3,a=1');
    expect(state.set('B', '3')).toBe(state);
    expect(state.set('c', 'x=y')).toBe(state);
    expect(state.unset('a').serialize()).toBe('b=2');
  });
});
