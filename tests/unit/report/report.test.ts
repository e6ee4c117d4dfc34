import { describe, expect, it } from 'vitest';
import type { ShipmentRecord } from '../../../src/checks/shipment.ts';
import type { EvidenceBundle } from '../../../src/evidence/bundle.ts';
import { REPORT_CSS, renderReportHtml, verifyCommand } from '../../../src/report/html.ts';
import { renderMapSvg } from '../../../src/report/map-svg.ts';
import { buildTimeline } from '../../../src/report/timeline.ts';

const HOUR = 3_600_000;
const t0 = Date.parse('2026-03-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const track = Array.from({ length: 12 }, (_, i) => ({
  ts: iso(t0 + i * HOUR + (i > 8 ? 10 * HOUR : 0)),
  lat: 22 - i * 0.3,
  lon: 119 - i * 0.8,
}));
const fix = { ts: track[11]!.ts, lat: track[11]!.lat, lon: track[11]!.lon };

const shipment = {
  id: 'shp-r1',
  reference: 'AWB 1',
  customer: 'Acme AI',
  deviceId: 'trk-r1',
  mode: 'sea',
  origin: { name: 'Kaohsiung', lat: 22.61, lon: 120.27, radiusKm: 25 },
  destination: { name: 'Rotterdam', lat: 51.9, lon: 4.4, radiusKm: 30 },
  route: {
    legs: [
      {
        mode: 'sea',
        coordinates: [
          [120.27, 22.61],
          [114, 10],
          [4.4, 51.9],
        ],
      },
    ],
    lengthKm: 18000,
  },
  corridorKm: 50,
  reportIntervalS: 3600,
  chips: ['GPU-1', 'GPU-2'],
  restrictedCountries: null,
  licenses: [{ country: 'NL', number: 'LIC-7' }],
  plannedStops: [],
  params: {},
  status: 'in_transit',
  checkState: {},
  lastFix: fix,
  progressKm: 900,
  createdAt: iso(t0 - HOUR),
  startedAt: iso(t0),
  arrivedAt: null,
  installedAt: null,
} as unknown as ShipmentRecord;

const alert = {
  id: '7',
  type: 'RESTRICTED_ZONE_ENTERED',
  severity: 'critical',
  status: 'resolved',
  shipmentId: 'shp-r1',
  deviceId: 'trk-r1',
  siteId: null,
  openedAt: fix.ts,
  lastSeenAt: fix.ts,
  firstEvidenceAt: fix.ts,
  lastEvidenceAt: fix.ts,
  count: 1,
  details: { zoneId: 'CN', zoneName: 'China', tier: 'restricted', country: 'CN', via: 'fix', fix },
  resolvedAt: fix.ts,
  resolvedBy: 'officer-ana',
  resolution: 'Reported to BIS <case 42>',
  audit: [
    {
      alertId: '7',
      at: fix.ts,
      actor: 'chipwatch',
      action: 'opened',
      note: null,
      details: {},
      prevHash: '',
      hash: 'a',
    },
    {
      alertId: '7',
      at: iso(t0 + 30 * HOUR),
      actor: 'officer-ana',
      action: 'acknowledged',
      note: 'Calling the carrier',
      details: {},
      prevHash: 'a',
      hash: 'b',
    },
    {
      alertId: '7',
      at: iso(t0 + 31 * HOUR),
      actor: 'officer-ana',
      action: 'resolved',
      note: 'Reported to BIS <case 42>',
      details: {},
      prevHash: 'b',
      hash: 'c',
    },
  ],
};

const bundle = {
  format: 'chipwatch-evidence/1',
  generatedAt: iso(t0 + 40 * HOUR),
  generatedBy: 'officer-ana',
  shipment: {},
  sites: [],
  landmarks: [],
  keys: [],
  messages: [],
  alerts: [alert],
  digest: { alg: 'sha256', over: 'canonical JSON', value: 'ab'.repeat(32) },
  seal: {
    alg: 'EdDSA',
    fingerprint: 'cd'.repeat(32),
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'x' },
    signature: 's',
  },
} as unknown as EvidenceBundle;

describe('the incident report', () => {
  it('draws route, corridor, track and numbered alert points over the country outlines, shaded by tier', () => {
    const svg = renderMapSvg({
      route: [shipment.route.legs[0]!.coordinates],
      corridorKm: 50,
      track,
      origin: shipment.origin,
      destination: shipment.destination,
      alerts: [{ lat: fix.lat, lon: fix.lon, n: 1, severity: 'critical' }],
      tierOf: (f) => (f.properties.name === 'China' ? 'restricted' : undefined),
    });
    expect(svg).toMatch(/^<svg [^>]*role="img"/);
    for (const cls of ['planned-route', 'corridor', 'actual-track', 'alert-point', 'current-position']) {
      expect(svg, cls).toContain(`class="${cls}"`);
    }
    expect(svg).toMatch(/fill="#f8b4b4" [^>]*><title>China \(restricted\)<\/title>/);
    // Clipped to the frame: a regional map carries only the outlines it shows.
    expect(svg.length).toBeLessThan(600_000);
  });

  it('keeps a route across the antimeridian in one piece (the map is turned to the shipment)', () => {
    const svg = renderMapSvg({
      route: [
        [
          [139.7, 35.6],
          [180, 40],
        ],
        [
          [-180, 40],
          [-118.2, 33.7],
        ],
      ],
      corridorKm: 50,
      track: [],
      alerts: [],
      tierOf: () => undefined,
    });
    const d = /class="planned-route" d="([^"]+)"/.exec(svg)![1]!;
    const xs = [...d.matchAll(/[ML]([\d.-]+),/g)].map((m) => Number(m[1]));
    // Drawn across the middle of the frame, never from one edge to the other.
    expect(Math.max(...xs) - Math.min(...xs)).toBeLessThan(960);
    expect(xs.every((x) => x >= 0 && x <= 960)).toBe(true);
  });

  it('writes the explanation, the audit trail with names and notes, the timeline in UTC and the verify command', () => {
    const html = renderReportHtml({ shipment, bundle, track, mapSvg: '<svg class="report-map"></svg>' });
    expect(html).toContain('A signed fix placed shipment shp-r1 inside China (CN), a restricted destination');
    expect(html).toContain('<td>officer-ana</td><td>acknowledged</td><td>Calling the carrier</td>');
    // User text is escaped.
    expect(html).toContain('Reported to BIS &lt;case 42&gt;');
    expect(html).not.toContain('<case 42>');
    expect(html).toContain('2026-03-02 06:00:00 UTC');
    expect(html).toContain(verifyCommand('shp-r1', 'cd'.repeat(32)));
    expect(html).toContain(`sha256:${'ab'.repeat(32)}`);
    expect(html).toContain('LIC-7 (NL)');
    expect(html).toContain('Acme AI');
    // Self-contained: no script, no external resource, one style block.
    expect(html).not.toMatch(/<script|src="http|href="http/);
    expect(html).toContain(`<style>${REPORT_CSS}</style>`);
    expect(html).not.toMatch(/style="/);
  });

  it('puts gaps and lifecycle actions on one time axis, in order', () => {
    const events = buildTimeline({ shipment, track, alerts: [alert] });
    const times = events.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(events.map((e) => e.text)).toEqual(
      expect.arrayContaining([
        'Shipment registered',
        expect.stringMatching(/^No telemetry for 11 h/),
        'Alert #7 restricted zone entered acknowledged',
        'Alert #7 restricted zone entered resolved',
      ]),
    );
  });
});

describe('GET /v1/shipments/{id}/report?format=pdf without a browser', () => {
  it('answers 501 NOT_IMPLEMENTED saying what to install, before touching the database', async () => {
    const { OpenAPIHono } = await import('@hono/zod-openapi');
    const { reportRouter } = await import('../../../src/api/routes/report.ts');
    const asked: string[] = [];
    const db = { query: async (sql: string) => asked.push(sql) } as never;
    const app = new OpenAPIHono<{ Variables: { principal: { sub: string; role: string } } }>();
    app.use(async (c, next) => {
      c.set('principal', { sub: 'officer', role: 'compliance' });
      await next();
    });
    app.route('/v1/shipments', reportRouter(db, {} as never, {} as never, '/nonexistent/chromium'));
    const res = await app.request('/v1/shipments/shp-1/report?format=pdf');
    expect(res.status).toBe(501);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('NOT_IMPLEMENTED');
    expect(body.error.message).toContain('apt-get install -y chromium');
    expect(asked).toEqual([]);
  });
});
