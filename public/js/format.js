// Pure helpers of the dashboard: token claims, what a role may do, ages, colours, and where an alert's evidence lies.
// No DOM and no network here, so these read the same in any browser and in a test.

/** The JWT's payload (not verified: the API verifies every call; the dashboard only adapts what it shows). */
export function tokenClaims(token) {
  const part = token.split('.')[1];
  if (!part)
    throw new Error('this is not a JWT (three dot-separated parts); mint one with `npx chipwatch token`');
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const json = new TextDecoder().decode(Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
  return JSON.parse(json);
}

/** What the dashboard offers a role; the API enforces the same matrix (DESIGN.md "HTTP API v1"). */
export function capabilities(role) {
  const staff = role === 'compliance' || role === 'admin';
  return { readAlerts: staff, actOnAlerts: staff, evidence: staff, sites: staff };
}

export const SEVERITY_LABEL = { critical: 'Critical', warning: 'Warning', info: 'Info' };
export const SEVERITY_COLOR = { critical: '#b91c1c', warning: '#b45309', info: '#1d4ed8' };
export const STATUS_LABEL = {
  planned: 'planned',
  in_transit: 'in transit',
  arrived: 'arrived',
  installed: 'installed',
  cancelled: 'cancelled',
};

export const TIER_STYLE = {
  restricted: { label: 'Restricted', fill: '#f87171', stroke: '#991b1b' },
  licenseRequired: { label: 'Licence required', fill: '#fdba74', stroke: '#c2410c' },
  watch: { label: 'Transshipment watch', fill: '#fde68a', stroke: '#a16207' },
};

/** Age classes of the actual track, newest first: a fix's colour says how stale it is. */
export const AGE_CLASSES = [
  { maxH: 1, label: '≤ 1 h', color: '#3b0764' },
  { maxH: 6, label: '≤ 6 h', color: '#6b21a8' },
  { maxH: 24, label: '≤ 24 h', color: '#9333ea' },
  { maxH: 72, label: '≤ 3 days', color: '#c084fc' },
  { maxH: Number.POSITIVE_INFINITY, label: 'older', color: '#ddd6fe' },
];

export function ageClass(ageMs) {
  const h = ageMs / 3_600_000;
  return AGE_CLASSES.findIndex((c) => h <= c.maxH);
}

/**
 * Splits a track ([lon, lat] with its times) into runs of one age class; each run starts at the previous run's last
 * point so the line has no gaps.
 */
/**
 * [lon, lat] positions with each longitude moved by ±360° to lie within 180° of the one before (starting near
 * `refLon`), so a line crossing the antimeridian is drawn across it (into Leaflet's next world copy) instead of
 * back across the whole map.
 */
export function unwrapLongitudes(coordinates, refLon) {
  let prev = refLon;
  return coordinates.map(([lon, lat]) => {
    let x = lon;
    if (prev !== undefined) {
      while (x - prev > 180) x -= 360;
      while (x - prev < -180) x += 360;
    }
    prev = x;
    return [x, lat];
  });
}

/** A LineString's or MultiLineString's parts, each continuous and following on from the part before. */
export function unwrapLines(geometry) {
  const parts = geometry.type === 'MultiLineString' ? geometry.coordinates : [geometry.coordinates];
  let ref;
  return parts.map((part) => {
    const out = unwrapLongitudes(part, ref);
    ref = out.at(-1)?.[0];
    return out;
  });
}

export function trackRuns(coordinates, times, nowMs) {
  const runs = [];
  let current;
  coordinates.forEach((c, i) => {
    const cls = ageClass(nowMs - Date.parse(times[i]));
    if (!current || current.cls !== cls) {
      const prev = current?.points.at(-1);
      current = { cls, points: prev ? [prev] : [] };
      runs.push(current);
    }
    current.points.push([c[1], c[0]]);
  });
  return runs.filter((r) => r.points.length >= 2);
}

const isPoint = (p) => p && typeof p.lat === 'number' && typeof p.lon === 'number';

/**
 * The positions an alert's details name as its evidence (see src/checks/*.ts): the triggering `fix`, the `from` of
 * a border-crossing segment, `before`/`after` of a gap, the anchor of a stop (`lat`, `lon` at the top level).
 */
export function evidencePoints(details) {
  if (!details || typeof details !== 'object') return [];
  const out = [];
  for (const [key, label] of [
    ['from', 'previous fix'],
    ['before', 'last fix before the gap'],
    ['after', 'first fix after the gap'],
    ['fix', 'triggering fix'],
  ]) {
    if (isPoint(details[key])) out.push({ ...details[key], label });
  }
  if (isPoint(details))
    out.push({ lat: details.lat, lon: details.lon, ts: details.since, label: 'stopped here' });
  return out;
}

export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : `${d.toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}

export function formatAgo(iso, nowMs) {
  const ms = nowMs - Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const min = Math.round(ms / 60_000);
  if (min < 1) return 'just now';
  if (min < 90) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

export const formatLatLon = (p) => `${p.lat.toFixed(3)}, ${p.lon.toFixed(3)}`;

/** A detail value as one readable line. */
export function formatValue(v) {
  if (v === null || v === undefined) return '—';
  if (isPoint(v)) return `${formatLatLon(v)}${v.ts ? ` at ${formatTime(v.ts)}` : ''}`;
  if (Array.isArray(v)) return v.map(formatValue).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Safe for a CSS class name: ids may hold `.` and `:`. */
export const cssId = (id) => String(id).replace(/[^A-Za-z0-9_-]/g, '_');

/** The feasible region's GeoJSON geometry: given bare, or inside `{ kind, geometry, disks, … }`. */
export function regionGeometry(site) {
  const r = site.feasibleRegion;
  if (!r) return null;
  return typeof r.type === 'string' ? r : (r.geometry ?? null);
}
