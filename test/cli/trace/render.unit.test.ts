/**
 * The text view of a trace document (cli/trace/render.ts), from the hand-made trace of ./search-trace.ts: every span
 * once, in tree order, with its start offset and a bar placed by its start and sized by its duration; logs, events
 * and exceptions under their span; the summary. Plain ASCII when piped, colour and box drawing on a terminal.
 */
import { describe, expect, it } from 'vitest';
import { formatMs, renderText } from '../../../cli/trace/render.ts';
import { buildDocument } from '../../../trace/model.ts';
import { fixtureDocument, fixtureTrace } from '../../trace/search-trace.ts';

const doc = fixtureDocument();
const WIDTH = 160;
const plain = renderText(doc, { color: false, width: WIDTH });
const lines = plain.split('\n');
/** At width 160 the bar is 32 characters wide; the trace is 150 ms long. */
const BAR = 32;

/** The waterfall's span lines: everything before the first blank line, but for the header and the detail lines. */
const waterfall = lines.slice(2, lines.indexOf('')).filter((l) => /ms( ok| ERROR)?$/.test(l));

/** The one waterfall line naming `service name` (after any tree prefix and attempt label). */
function lineOf(title: string): string {
  const found = waterfall.filter((l) => l.includes(` ${title}  `) || l.includes(` ${title} `));
  expect(found, title).toHaveLength(1);
  return found[0]!;
}

describe('The text view of a trace', () => {
  it('opens with the trace ID, span and service counts, duration and start', () => {
    expect(lines[0]).toBe(
      'trace 4bf92f3577b34da6a3ce929d0e0e4736  10 spans, 5 services, 150.0 ms  (started 2026-05-28T20:26:40.000Z)',
    );
    expect(lines[1]).toMatch(/^ {2}span +start +duration status$/);
  });

  it('shows every span once, in tree order, indented by depth, with attempt labels on retried chunks', () => {
    expect(waterfall.map((l) => l.replace(/\s+\+\S+ [.#]+ .*$/, ''))).toEqual([
      '* gateway GET /search  route=/search status=200',
      '* |- gateway GET  status=500 path=/catalog/search',
      '* |  `- catalog GET /catalog/search  route=/catalog/search status=500',
      '* |     `- catalog query',
      '  |- gateway render',
      '* `- etl-listener etl.job crop_stats',
      '*    `- etl-listener etl.chunk crop_stats  chunk=0',
      '*       |- attempt 1/2: etl-worker crop_stats invoke  coldstart=true chunk=0 attempt=1',
      '*       `- attempt 2/2: etl-worker crop_stats invoke  coldstart=false chunk=0 attempt=2',
      '  users lookup',
    ]);
  });

  it('marks the critical path with * and leaves the other spans unmarked', () => {
    expect(lineOf('gateway render').startsWith('  ')).toBe(true);
    expect(lineOf('users lookup').startsWith('  ')).toBe(true);
    expect(lineOf('catalog query').startsWith('* ')).toBe(true);
  });

  it.each([
    // title, offset, bar: floor(start / 150 × 32) dots, then max(1, round(duration / 150 × 32)) hashes
    ['gateway GET /search', '+0.00ms', 0, 21, '100.0 ms ok'],
    ['catalog GET /catalog/search', '+12.0ms', 2, 10, '46.0 ms'],
    ['catalog query', '+20.0ms', 4, 6, '30.0 ms ERROR'],
    ['gateway render', '+65.0ms', 13, 6, '30.0 ms'],
    ['etl-listener etl.job crop_stats', '+90.0ms', 19, 13, '60.0 ms'],
    ['users lookup', '+30.0ms', 6, 2, '10.0 ms'],
  ])(
    'puts %s at %s with a bar placed by its start and sized by its duration',
    (title, offset, dots, hashes, end) => {
      const bar = '.'.repeat(dots) + '#'.repeat(hashes) + '.'.repeat(BAR - dots - hashes);
      expect(lineOf(title)).toMatch(
        new RegExp(`\\s${offset.replace('+', '\\+')} ${bar.replace(/\./g, '\\.')} +${end}$`),
      );
    },
  );

  it('keeps a short span’s bar one character wide at the narrowest width', () => {
    const short = renderText(doc, { color: false, width: 60 });
    // At the narrowest width (60) the bar is 12 wide: the 10 ms lookup still gets one character.
    const lookup = short.split('\n').find((l) => l.includes('users lookup'))!;
    expect(lookup).toMatch(/ \.\.#\.{9} +10\.0 ms$/);
  });

  it('lists exceptions, logs and events under the span they belong to, in time order', () => {
    const query = lines.indexOf(lineOf('catalog query'));
    expect(lines.slice(query + 1, query + 4)).toEqual([
      '  |           ! Error: db down',
      '  |           - 20:26:40.021 INFO  catalog: query started',
      '  |           - 20:26:40.048 ERROR catalog: query failed',
    ]);
    const search = lines.indexOf(lineOf('gateway GET /search'));
    expect(lines[search + 1]).toBe(
      '  |  > 20:26:40.099 event search_made gateway: {"query":"wheat","n_results":3,"user_id":"u1"} [not compacted yet]',
    );
    // An error span without exception events shows its status message instead.
    const attempt = lines.indexOf(lineOf('attempt 1/2: etl-worker crop_stats invoke'));
    expect(lines[attempt + 1]).toBe('        |     ! injected fault');
  });

  it('lists the logs no span of the trace claims in their own section', () => {
    const at = lines.indexOf('not tied to a span of this trace');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 3)).toEqual([
      '  - 20:26:40.005 WARN  catalog: from a span of another trace',
      '  - 20:26:40.007 INFO  catalog: no span at all',
    ]);
  });

  it('ends with the summary: services, duration, errors, counts, critical path self times, the ETL job, notes', () => {
    const summary = lines.slice(lines.indexOf('summary'));
    expect(summary).toEqual([
      'summary',
      '  services       catalog, etl-listener, etl-worker, gateway, users',
      '  duration       150.0 ms (2026-05-28T20:26:40.000Z -> 2026-05-28T20:26:40.150Z)',
      '  errors         2 spans',
      '  logs, events   4 log records, 1 event (1 not compacted yet)',
      '  critical path  * marks the spans the request waited on; self time:',
      '                   40.0 ms  gateway GET /search',
      '                   4.00 ms  gateway GET',
      '                   16.0 ms  catalog GET /catalog/search',
      '                   30.0 ms  catalog query',
      '                   12.0 ms  etl-listener etl.job crop_stats',
      '                   13.0 ms  etl-listener etl.chunk crop_stats',
      '                   15.0 ms  etl-worker crop_stats invoke',
      '                   20.0 ms  etl-worker crop_stats invoke',
      '  ETL job        job-1 crop_stats done: 1 chunks, 2 invocations (1 chunks retried, 1 failed, 1 cold starts), est. cost $0.000100 (0.5 GB-s billed)',
      '  note           lake not read',
      '  note           1 span has a parent that has not arrived; shown at the top level',
      '  note           Jaeger: clock skew adjusted',
      '',
    ]);
  });

  it("lists each process's resource before the summary, saying whether it is the lake's whole one or Jaeger's copy", () => {
    const withResources = buildDocument(
      fixtureTrace(),
      [],
      [],
      [],
      [
        {
          service: 'catalog',
          attributes: {
            'service.name': 'catalog',
            'process.pid': 4242,
            'process.runtime.version': '24.21.0',
          },
        },
      ],
    );
    const text = renderText(withResources, { color: false, width: 80 }).split('\n');
    const from = text.indexOf('processes');
    expect(from).toBeGreaterThan(0);
    expect(text.slice(from + 1, from + 3)).toEqual([
      '  catalog (the whole resource, from the lake)',
      '    process.pid=4242 process.runtime.version=24.21.0 service.name=catalog',
    ]);
    expect(text[from + 3]).toMatch(
      /^ {2}etl-listener \(Jaeger's copy, without the repeated process attributes/,
    );
    expect(text.indexOf('summary')).toBeGreaterThan(from);
  });

  it('is plain ASCII without escape codes when not on a terminal', () => {
    expect(plain).toMatch(/^[\x20-\x7e\n]*$/);
  });

  it('fits each span line into the width, cutting long names with ~', () => {
    const narrow = renderText(doc, { color: false, width: 80 }).split('\n');
    const spanLines = narrow
      .slice(2, narrow.indexOf(''))
      .filter((l) => /^[* ] /.test(l) && /ms( ok| ERROR)?$/.test(l));
    expect(spanLines).toHaveLength(10);
    for (const line of spanLines) expect(line.length).toBeLessThanOrEqual(80);
    expect(spanLines.some((l) => l.includes('~'))).toBe(true);
  });

  it('colours a terminal’s view and draws the tree with box characters', () => {
    const tty = renderText(doc, { color: true, width: WIDTH });
    expect(tty).toContain('\x1b[31mERROR\x1b[0m');
    expect(tty).toContain('├─ ');
    expect(tty).toContain('└─ ');
    expect(tty).toContain('◆');
    // With the escape codes removed, the same spans in the same places.
    const stripped = tty.replace(/\x1b\[[0-9;]*m/g, '');
    expect(stripped.split('\n')).toHaveLength(lines.length);
  });

  it('formats durations in ms, s or min by size', () => {
    expect([0.25, 4, 16, 150, 1500, 90_000].map(formatMs)).toEqual([
      '0.25 ms',
      '4.00 ms',
      '16.0 ms',
      '150.0 ms',
      '1.50 s',
      '1.5 min',
    ]);
  });
});
