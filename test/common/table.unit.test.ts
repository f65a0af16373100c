/** Aligned plain-text tables (common/table.ts). */
import { describe, expect, it } from 'vitest';
import { formatTable } from '../../common/table.ts';

describe('formatTable', () => {
  it('pads each column to its widest cell, two spaces apart, without trailing spaces', () => {
    expect(
      formatTable([
        ['name', 'rows', 'note'],
        ['events', '12', ''],
        ['rejected', '3', 'unknown_event'],
      ]),
    ).toEqual(['name      rows  note', 'events    12', 'rejected  3     unknown_event']);
  });

  it('aligns the named columns to the right', () => {
    expect(
      formatTable(
        [
          ['service', 'spans'],
          ['gateway', '7'],
          ['catalog', '1234'],
        ],
        { right: [1] },
      ),
    ).toEqual(['service  spans', 'gateway      7', 'catalog   1234']);
  });

  it('takes another gap, and rows of different lengths', () => {
    expect(formatTable([['a', 'bb', 'c'], ['ddd']], { gap: ' | ' })).toEqual(['a   | bb | c', 'ddd']);
  });

  it('formats nothing as no lines', () => {
    expect(formatTable([])).toEqual([]);
  });
});
