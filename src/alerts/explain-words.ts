// The words alerts are explained in (explain.ts): reading details defensively, figures, UTC times and places. Pure,
// and imports nothing: the dashboard gets it bundled with explain.ts.

export type D = Record<string, unknown>;

export const isObj = (v: unknown): v is D => typeof v === 'object' && v !== null && !Array.isArray(v);
export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
export const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v : undefined;
export const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];

/** 1234.5 → "1,235"; 12.34 → "12.3"; 0.456 → "0.46". */
export function figure(n: number): string {
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return n.toLocaleString('en-GB', { maximumFractionDigits: digits });
}

/** An RFC 3339 time (or epoch ms) as "2026-03-02 14:05 UTC"; anything else as given. */
export function utc(v: unknown): string | undefined {
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms)) return str(v);
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** {lat, lon, ts?} as "18.600° N, 109.600° E (at 2026-… UTC)". */
export function place(v: unknown): string | undefined {
  if (!isObj(v)) return undefined;
  const lat = num(v.lat);
  const lon = num(v.lon);
  if (lat === undefined || lon === undefined) return undefined;
  const at = utc(v.ts);
  return `${Math.abs(lat).toFixed(3)}° ${lat < 0 ? 'S' : 'N'}, ${Math.abs(lon).toFixed(3)}° ${lon < 0 ? 'W' : 'E'}${at ? ` at ${at}` : ''}`;
}

export const hours = (h: number) => (h < 1 ? `${figure(h * 60)} minutes` : `${figure(h)} hours`);
export const km = (n: number) => `${figure(n)} km`;

/** Joins the clauses that could be written, each ending with a full stop. */
export function sentences(...parts: (string | undefined | false)[]): string {
  return parts
    .filter((p): p is string => typeof p === 'string' && p.length > 0)
    .map((p) => (/[.!?]$/.test(p) ? p : `${p}.`))
    .join(' ');
}

export const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** "RESTRICTED_ZONE_ENTERED" → "restricted zone entered". */
export const typeWords = (type: string) => type.toLowerCase().replace(/_/g, ' ');
