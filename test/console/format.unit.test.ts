/**
 * The console's service colours (ui/lib/format.ts): none that reads as an error or a warning, the demo's services
 * each their own, the same for a name every time; and axis values short enough to fit.
 */
import { describe, expect, it } from 'vitest';
import { colorOf, formatUnit, PALETTE } from '../../ui/lib/format.ts';

/** Hue in degrees and HSL saturation of #rrggbb. */
function hsl(hex: string): { hue: number; saturation: number } {
  const n = Number.parseInt(hex.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => v / 255) as [
    number,
    number,
    number,
  ];
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  if (d === 0) return { hue: 0, saturation: 0 };
  const hue = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return { hue: (hue * 60 + 360) % 360, saturation: d / (1 - Math.abs(max + min - 1)) };
}

describe('Service colours', () => {
  it('hold no red, orange, amber, pink or brown', () => {
    for (const colour of PALETTE) {
      const { hue, saturation } = hsl(colour);
      expect(
        saturation > 0.25 && (hue < 50 || hue > 330),
        `${colour}: hue ${hue}, saturation ${saturation}`,
      ).toBe(false);
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
