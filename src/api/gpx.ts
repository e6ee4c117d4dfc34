// A shipment as GPX 1.1 (https://www.topografix.com/GPX/1/1/) for GIS and navigation tools: alert points as
// <wpt>, the planned route as one <rte> per leg, the actual track as one <trk> with timed points. Pure.
import type { PlannedRoute } from '../geo/types.ts';

export interface GpxAlertPoint {
  alertId: string;
  type: string;
  severity: string;
  status: string;
  lat: number;
  lon: number;
  /** RFC 3339, when the evidence has a time. */
  ts?: string | undefined;
}

export interface GpxInput {
  /** The shipment id. */
  name: string;
  description?: string | null | undefined;
  /** RFC 3339 time of the export. */
  generatedAt: string;
  route: PlannedRoute;
  track: { ts: string; lat: number; lon: number }[];
  alerts: GpxAlertPoint[];
}

/**
 * The five characters XML gives meaning to, escaped; characters XML 1.0 forbids (control characters, U+FFFE/F,
 * lone surrogates) dropped, so no user-supplied text can make the file unreadable. Everything user-supplied goes
 * through here.
 */
export function xmlEscape(s: string): string {
  return s
    .replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding the characters XML forbids is the point
      /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
      '',
    )
    .replace(/[&<>"']/g, (ch) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[ch]};`);
}

/** GPX wants longitudes in [-180, 180); planned legs are stored unwrapped across the antimeridian. */
function wrapLon(lon: number): number {
  return ((((lon + 180) % 360) + 360) % 360) - 180;
}

const coord = (n: number) => String(Math.round(n * 1e7) / 1e7);
const at = (lat: number, lon: number) => `lat="${coord(lat)}" lon="${coord(wrapLon(lon))}"`;
const tag = (name: string, text: string | null | undefined) =>
  text === null || text === undefined || text === '' ? '' : `<${name}>${xmlEscape(text)}</${name}>`;

export function toGpx(g: GpxInput): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<gpx version="1.1" creator="chipwatch" xmlns="http://www.topografix.com/GPX/1/1">',
    `  <metadata>${tag('name', g.name)}${tag('desc', g.description)}${tag('time', g.generatedAt)}</metadata>`,
  ];
  // GPX 1.1 orders the children: wpt, then rte, then trk.
  for (const a of g.alerts) {
    lines.push(
      `  <wpt ${at(a.lat, a.lon)}>${tag('time', a.ts)}${tag('name', a.type)}` +
        `${tag('desc', `alert ${a.alertId}: ${a.severity}, ${a.status}`)}${tag('type', 'alert')}</wpt>`,
    );
  }
  g.route.legs.forEach((leg, i) => {
    lines.push(`  <rte>${tag('name', `planned route, leg ${i + 1}`)}${tag('type', leg.mode)}`);
    for (const [lon, lat] of leg.coordinates) lines.push(`    <rtept ${at(lat, lon)}/>`);
    lines.push('  </rte>');
  });
  lines.push(`  <trk>${tag('name', 'actual track')}<trkseg>`);
  for (const p of g.track) lines.push(`    <trkpt ${at(p.lat, p.lon)}>${tag('time', p.ts)}</trkpt>`);
  lines.push('  </trkseg></trk>', '</gpx>', '');
  return lines.join('\n');
}
