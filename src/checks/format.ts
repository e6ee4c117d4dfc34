// Rounding of the figures alert details carry: readable, and stable across runs; timestamps as ISO 8601.
export const round = (x: number, digits = 1) => {
  const f = digits === 1 ? 10 : 10 ** digits;
  return Math.round(x * f) / f;
};

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * Epoch milliseconds as `new Date(ms).toISOString()` writes them (YYYY-MM-DDTHH:mm:ss.sssZ), without a Date: alert
 * details carry several per fix. Days to civil date after H. Hinnant's days_from_civil inverse; outside years
 * 1970–9999 (and for non-integers) Date does it.
 */
export function isoTime(ms: number): string {
  // The same few instants recur: a fix's time in each of its alerts, a window's start at each fix.
  const slot = Math.floor(ms / 60_000) % SLOTS;
  if (slot >= 0 && recentMs[slot] === ms) return recentIso[slot]!;
  const iso = formatIso(ms);
  if (slot >= 0) {
    recentMs[slot] = ms;
    recentIso[slot] = iso;
  }
  return iso;
}
/** A small direct-mapped cache (by minute, modulo a prime: hourly fixes fall in different slots). */
const SLOTS = 31;
const recentMs = new Float64Array(SLOTS).fill(-1);
const recentIso = new Array<string>(SLOTS);

function formatIso(ms: number): string {
  if (!(ms >= 0 && ms < 253402300800000) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const min = Math.floor(rest / 60_000);
  rest -= min * 60_000;
  const s = Math.floor(rest / 1000);
  return `${y}-${pad2(m)}-${pad2(d)}T${pad2(h)}:${pad2(min)}:${pad2(s)}.${pad3(rest - s * 1000)}Z`;
}
