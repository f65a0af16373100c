/** Numbers, durations, times and colours as every page shows them. */

export function formatMs(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace('Z', '').slice(0, 23);
}

/** Three significant digits at most: 1.25, 12.5, 125. */
const scaled = (v: number): string => {
  const abs = Math.abs(v);
  return abs < 10 ? v.toFixed(2) : abs < 100 ? v.toFixed(1) : v.toFixed(0);
};

/** A value in a Grafana unit. */
export function formatUnit(value: number | null | undefined, unit: string | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const short = (v: number) => {
    const abs = Math.abs(v);
    if (abs >= 1e9) return `${scaled(v / 1e9)} G`;
    if (abs >= 1e6) return `${scaled(v / 1e6)} M`;
    if (abs >= 1e3) return `${scaled(v / 1e3)} k`;
    if (abs === 0) return '0';
    if (abs < 0.01) return v.toExponential(1);
    return abs < 10 ? v.toFixed(2) : abs < 100 ? v.toFixed(1) : v.toFixed(0);
  };
  switch (unit) {
    case 'ms':
      return formatMs(value);
    case 's':
      return formatMs(value * 1000);
    case 'percentunit':
      return `${(value * 100).toFixed(value < 0.1 ? 2 : 1)}%`;
    case 'percent':
      return `${value.toFixed(1)}%`;
    case 'reqps':
      return `${short(value)} req/s`;
    case 'bytes': {
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let v = value;
      let i = 0;
      while (Math.abs(v) >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
      }
      return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
    }
    case 'currencyUSD':
      return `$${value < 0.01 && value !== 0 ? value.toPrecision(2) : value.toFixed(2)}`;
    default:
      return short(value);
  }
}

/**
 * Services' colours: categorical, and without red, orange, amber, pink or brown, which the pages keep for what they
 * mean (red an error, amber the critical path and exemplars), so that no service reads as failing. Thirteen, a
 * prime: the demo's six services (gateway, catalog, downloads, users, etl-listener, etl-worker) then hash to six
 * different colours; with ten, the gateway and the ETL worker shared one.
 */
export const PALETTE = [
  '#8c8c8c', // grey
  '#17a2b8', // cyan: catalog
  '#637939', // olive
  '#76b7b2', // teal: downloads
  '#6b6ecf', // indigo: etl-worker
  '#4e79a7', // blue: gateway
  '#7b4173', // plum
  '#5b8f8a', // sea green
  '#a05195', // violet
  '#59a14f', // green: users
  '#3d5a80', // navy
  '#b07aa1', // purple: etl-listener
  '#2f6f4f', // forest
];

/** The same colour for a name on every page. */
export function colorOf(name: string): string {
  let hash = 0;
  for (const c of name) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}

export function seriesColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}
