// The one table printer (common/table.ts) and the outputs built on it: `lake query`'s table and the load report
// print exactly as they did when each aligned its columns by hand (expected strings taken from the old code).
import { describe, expect, it } from 'vitest';
import { formatTable } from '../../common/table.ts';
import { formatTable as formatQueryResult } from '../../lake/format.ts';
import { formatReport, type LoadReport } from '../../demo/load-generator.ts';

describe('formatTable', () => {
  it('pads each column to its widest cell, right-aligns the columns asked for and leaves no trailing spaces', () => {
    expect(
      formatTable(
        [
          ['id', 'ms', 'note'],
          ['a', '1.5', ''],
          ['bbb', '12.25', 'slow'],
        ],
        { right: [1] },
      ),
    ).toEqual(['id      ms  note', 'a      1.5', 'bbb  12.25  slow']);
  });

  it('prints a lake query result as before: header, rule, cells cut at 60 characters, row count', () => {
    const out = formatQueryResult({
      columns: ['event_name', 'n', 'props'],
      types: [],
      rows: [
        { event_name: 'search_made', n: 12, props: { a: 1 } },
        { event_name: 'x', n: null, props: `a long  text\nwith newline${'z'.repeat(70)}` },
      ],
    });
    expect(out).toBe(
      'event_name   n   props\n-----------  --  ------------------------------------------------------------\n' +
        'search_made  12  {"a":1}\nx                a long text with newlinezzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz…\n(2 rows)\n',
    );
  });

  it('prints the load report as before, with the line that tells injected faults from server errors', () => {
    const report = {
      sent: 30,
      seconds: 2,
      byStatus: { '200': 28, '0': 2 },
      injected: 1,
      serverErrors: 1,
      byKind: {
        search: { count: 20, errors: 1, p50: 3.14, p95: 10, p99: 123.456 },
        download: { count: 10, errors: 0, p50: 1, p95: 2, p99: 3 },
      },
      failureGroups: [],
      sampleTraces: { ok: ['a'], failed: [] },
    } as unknown as LoadReport;
    expect(formatReport(report)).toBe(
      '30 requests in 2.0 s (15.0 req/s); status counts: no answer=2 200=28\n' +
        'kind       count  5xx   p50 ms   p95 ms   p99 ms\n' +
        'search        20    1      3.1     10.0    123.5\n' +
        'download      10    0      1.0      2.0      3.0\n' +
        '1 asked to fail (fault header); 1 other server errors or unanswered requests\n' +
        'sample trace IDs: a',
    );
  });
});
