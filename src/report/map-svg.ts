// The incident report's map: planned route, corridor, actual track and alert points over the Natural Earth country
// outlines (world-atlas, the same data the checks use), shaded by policy tier, as one inline SVG. Projected by
// d3-geo (Natural Earth projection, rotated to the shipment and fitted to it, clipped to the frame); spherical
// rings and great-circle segments are d3-geo's job, so nothing here does projection maths. Pure but for reading the
// outlines once.

import { geoNaturalEarth1, geoPath } from 'd3-geo';
import type { Feature, FeatureCollection, MultiPolygon, Polygon, Position } from 'geojson';
import { loadWorldFeatures } from '../geo/countries.ts';
import { escapeHtml } from './text.ts';

export interface MapPoint {
  lat: number;
  lon: number;
}

export interface ReportMapInput {
  /** The planned route's legs, [lon, lat] positions. */
  route: Position[][];
  corridorKm: number;
  track: MapPoint[];
  origin?: MapPoint | undefined;
  destination?: MapPoint | undefined;
  /** Numbered as in the report's alert list. */
  alerts: (MapPoint & { n: number; severity: string })[];
  /** A country feature's tier (restricted, licenseRequired, watch) or undefined. */
  tierOf: (f: Feature<Polygon | MultiPolygon, { name: string }>) => string | undefined;
  widthPx?: number;
  heightPx?: number;
}

const TIER_FILL: Record<string, string> = {
  restricted: '#f8b4b4',
  licenseRequired: '#fcd9b6',
  watch: '#fdf0b5',
};

let world: FeatureCollection<Polygon | MultiPolygon, { name: string }> | undefined;

/** Circular mean of longitudes: the meridian the map is turned to, so a route across ±180° is not cut in two. */
function centralLon(points: Position[]): number {
  let x = 0;
  let y = 0;
  for (const [lon] of points) {
    x += Math.cos(((lon ?? 0) * Math.PI) / 180);
    y += Math.sin(((lon ?? 0) * Math.PI) / 180);
  }
  return (Math.atan2(y, x) * 180) / Math.PI;
}

/** The map as an SVG element with a title and description for screen readers. */
export function renderMapSvg(m: ReportMapInput): string {
  const width = m.widthPx ?? 960;
  const height = m.heightPx ?? 540;
  world ??= loadWorldFeatures('50m');
  const points: Position[] = [
    ...m.route.flat(),
    ...m.track.map((p) => [p.lon, p.lat]),
    ...m.alerts.map((p) => [p.lon, p.lat]),
    ...[m.origin, m.destination].filter((p): p is MapPoint => !!p).map((p) => [p.lon, p.lat]),
  ];
  if (points.length === 0) points.push([0, 20]);
  const pad = 36;
  const projection = geoNaturalEarth1()
    .rotate([-centralLon(points), 0])
    .fitExtent(
      [
        [pad, pad],
        [width - pad, height - pad],
      ],
      { type: 'MultiPoint', coordinates: points },
    );
  // Never closer than a few hundred km across: a stationary shipment still shows where it is.
  if (projection.scale() > 2500) {
    const centre = projection.invert?.([width / 2, height / 2]) ?? [0, 0];
    projection.scale(2500).translate([width / 2, height / 2]);
    const moved = projection(centre) ?? [width / 2, height / 2];
    projection.translate([width - moved[0], height - moved[1]]);
  }
  projection.clipExtent([
    [0, 0],
    [width, height],
  ]);
  const path = geoPath(projection).digits(1);

  const countries = world.features
    .map((f) => {
      const d = path(f);
      if (!d) return '';
      const tier = m.tierOf(f);
      return `<path d="${d}" fill="${(tier && TIER_FILL[tier]) ?? '#eef0ea'}" stroke="#9aa5b1" stroke-width="0.5"><title>${escapeHtml(f.properties.name)}${tier ? ` (${tier})` : ''}</title></path>`;
    })
    .join('');

  // The corridor as a band as wide as the corridor at the map's centre (the scale barely changes across a region).
  const [cx, cy] = [width / 2, height / 2];
  const c = projection.invert?.([cx, cy]) ?? [0, 0];
  const north = projection([c[0], Math.min(c[1] + 1, 89)]);
  const pxPerKm = north ? Math.hypot(north[0] - cx, north[1] - cy) / 111.195 : 0;
  const corridorPx = Math.max(2, Math.min(2 * m.corridorKm * pxPerKm, 80));
  const route = path({ type: 'MultiLineString', coordinates: m.route }) ?? '';
  const track =
    m.track.length >= 2
      ? path({ type: 'LineString', coordinates: m.track.map((p) => [p.lon, p.lat]) })
      : null;

  const marker = (p: MapPoint | undefined, label: string, fill: string) => {
    const xy = p && projection([p.lon, p.lat]);
    return xy
      ? `<g><rect x="${(xy[0] - 5).toFixed(1)}" y="${(xy[1] - 5).toFixed(1)}" width="10" height="10" fill="${fill}" stroke="#102a43"/><text x="${(xy[0] + (xy[0] > width - 90 ? -8 : 8)).toFixed(1)}" y="${(xy[1] + 4).toFixed(1)}" font-size="12" fill="#102a43" text-anchor="${xy[0] > width - 90 ? 'end' : 'start'}">${escapeHtml(label)}</text></g>`
      : '';
  };
  const alerts = m.alerts
    .map((a) => {
      const xy = projection([a.lon, a.lat]);
      if (!xy) return '';
      const fill = a.severity === 'critical' ? '#b91c1c' : a.severity === 'warning' ? '#b45309' : '#1d4ed8';
      return `<g class="alert-point"><circle cx="${xy[0].toFixed(1)}" cy="${xy[1].toFixed(1)}" r="9" fill="${fill}" stroke="#fff" stroke-width="2"/><text x="${xy[0].toFixed(1)}" y="${(xy[1] + 4).toFixed(1)}" font-size="11" font-weight="700" text-anchor="middle" fill="#fff">${a.n}</text></g>`;
    })
    .join('');
  const last = m.track.at(-1);
  const lastXy = last && projection([last.lon, last.lat]);

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="map-title map-desc" class="report-map">`,
    '<title id="map-title">Planned route and corridor against the actual track</title>',
    `<desc id="map-desc">Planned route (blue, with its ${m.corridorKm} km corridor shaded), actual track (purple, ${m.track.length} signed fixes) and ${m.alerts.length} numbered alert point(s). Countries shaded by export-control tier: red restricted, orange licence required, yellow transshipment watch.</desc>`,
    `<rect width="${width}" height="${height}" fill="#dbe7f0"/>`,
    `<g class="countries">${countries}</g>`,
    `<path class="corridor" d="${route}" fill="none" stroke="#1d4ed8" stroke-opacity="0.18" stroke-width="${corridorPx.toFixed(1)}" stroke-linecap="round" stroke-linejoin="round"/>`,
    `<path class="planned-route" d="${route}" fill="none" stroke="#1d4ed8" stroke-width="2" stroke-dasharray="6 4"/>`,
    track ? `<path class="actual-track" d="${track}" fill="none" stroke="#6b21a8" stroke-width="2.5"/>` : '',
    lastXy
      ? `<circle class="current-position" cx="${lastXy[0].toFixed(1)}" cy="${lastXy[1].toFixed(1)}" r="5" fill="#6b21a8" stroke="#fff" stroke-width="2"/>`
      : '',
    marker(m.origin, 'origin', '#ffffff'),
    marker(m.destination, 'destination', '#102a43'),
    alerts,
    `<rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" fill="none" stroke="#52606d"/>`,
    '</svg>',
  ].join('');
}
