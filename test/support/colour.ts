/** Colours as a reader sees them: hue and saturation, and whether a colour reads as an error or a warning. */

/** Hue in degrees and HSL saturation (0–1) of `#rrggbb` or a CSS `rgb()` value. */
export function hueAndSaturation(colour: string): { hue: number; saturation: number } {
  const channels = colour.startsWith('#')
    ? [0, 2, 4].map((at) => Number.parseInt(colour.slice(1 + at, 3 + at), 16))
    : (colour.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
  const [r, g, b] = channels.map((v) => v / 255) as [number, number, number];
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  if (d === 0) return { hue: 0, saturation: 0 };
  const hue = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return { hue: (hue * 60 + 360) % 360, saturation: d / (1 - Math.abs(max + min - 1)) };
}

/** Red, orange, amber and pink: hues a reader takes for an error or a warning. */
export function isAlarming(colour: string): boolean {
  const { hue, saturation } = hueAndSaturation(colour);
  return saturation > 0.25 && (hue < 50 || hue > 330);
}
