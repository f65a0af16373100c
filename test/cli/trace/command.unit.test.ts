/**
 * `observatory trace` where it needs no stack: malformed IDs and bad usage get exit code 2 and a message saying
 * what was expected, and a Jaeger that does not answer is named with its address. The lookups themselves are
 * tested against the real stack in trace.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { EXIT_CODES, traceCommand } from '../../../cli/trace/command.ts';
import { parseTraceId } from '../../../trace/index.ts';

/** Runs the command in-process, capturing what it prints; piped (no terminal). */
async function run(args: string[], env: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  const code = await traceCommand(args, {
    out: (text) => (out += text),
    err: (text) => (err += text),
    env: { ...process.env, ...env },
    isTTY: false,
    columns: 220,
  });
  return { code, out, err };
}

const someId = (n: number) => String(n).repeat(32).slice(0, 32);

describe('observatory trace, when the trace cannot be shown', () => {
  it.each([
    ['too short', 'abc123'],
    ['31 hex digits', 'a'.repeat(31)],
    ['not hex', 'z'.repeat(32)],
    ['all zeros', '0'.repeat(32)],
    ['a traceparent with a zero span ID', `00-${'ab'.repeat(16)}-${'0'.repeat(16)}-01`],
    ['a traceparent cut short', `00-${'ab'.repeat(16)}-01`],
  ])('rejects a malformed ID (%s) with exit code 2 and a clear message', async (_, id) => {
    const result = await run([id]);
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.err).toContain('is not a trace ID');
    expect(result.err).toContain('expected 32 hex digits');
  });

  it('accepts a trace ID in any case, a traceparent and a traceresponse header line', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(parseTraceId(` ${id.toUpperCase()}\n`)).toBe(id);
    expect(parseTraceId(`00-${id}-00f067aa0ba902b7-01`)).toBe(id);
    expect(parseTraceId(`traceresponse: 00-${id}-00f067aa0ba902b7-00`)).toBe(id);
  });

  it('asks for a trace ID, with exit code 2, when none is given', async () => {
    const result = await run([]);
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.err).toContain('trace needs a trace ID');
  });

  it('rejects an unknown flag, and --wait with --last, with exit code 2 and the usage', async () => {
    const unknown = await run([someId(1), '--wiat', '2']);
    expect(unknown.code).toBe(EXIT_CODES.usage);
    expect(unknown.err).toContain("'--wiat'");
    expect(unknown.err).toContain('usage: observatory trace');
    const both = await run(['--last', '--wait', '2']);
    expect(both.code).toBe(EXIT_CODES.usage);
    expect(both.err).toContain('--wait is for one trace, not --last');
  });

  it('says Jaeger is unreachable, and where, when nothing answers', async () => {
    const result = await run([someId(7)], { OBSERVATORY_JAEGER_QUERY_PORT: '9', OBSERVATORY_JAEGER_URL: '' });
    expect(result.code).toBe(EXIT_CODES.jaegerUnreachable);
    expect(result.err).toContain('Jaeger unreachable at http://127.0.0.1:9');
  });
});
