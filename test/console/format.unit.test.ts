/**
 * The console's service colours (ui/lib/format.ts): none that reads as an error or a warning, the demo's services
 * each their own, the same for a name every time; and axis values short enough to fit.
 */
import { describe, expect, it } from 'vitest';
import { colorOf, formatUnit, PALETTE } from '../../ui/lib/format.ts';
import { hueAndSaturation, isAlarming } from '../support/colour.ts';

describe('Service colours', () => {
  it('hold no red, orange, amber, pink or brown', () => {
    for (const colour of PALETTE) {
      const { hue, saturation } = hueAndSaturation(colour);
      expect(isAlarming(colour), `${colour}: hue ${hue}, saturation ${saturation}`).toBe(false);
    }
  });

  it("give each of the demo's services its own colour, the same one every time", () => {
    const services = ['gateway', 'catalog', 'downloads', 'users', 'etl-listener', 'etl-worker'];
    expect(new Set(services.map(colorOf)).size).toBe(services.length);
    expect(colorOf('gateway')).toBe(colorOf('gateway'));
  });
});

describe('Axis values', () => {
  it('keep three significant digits in thousands and millions', () => {
    expect(formatUnit(100_000, 'reqps')).toBe('100 k req/s');
    expect(formatUnit(12_500, 'reqps')).toBe('12.5 k req/s');
    expect(formatUnit(1_250_000, undefined)).toBe('1.25 M');
  });
});
