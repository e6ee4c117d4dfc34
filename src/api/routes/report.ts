// GET /v1/shipments/{id}/report: the incident report, a self-contained printable HTML page (src/report/html.ts), or
// with ?format=pdf the same page printed by the installed Chromium (501 where there is none).
import countries from 'i18n-iso-countries';
import { gatherEvidenceSnapshot } from '../../db/evidence.ts';
import type { Pool } from '../../db/pool.ts';
import { shipmentTrack } from '../../db/queries.ts';
import { getShipment } from '../../db/shipments.ts';
import { AppError } from '../../domain/errors.ts';
import { sealBundle } from '../../evidence/bundle.ts';
import type { SealKey } from '../../evidence/seal.ts';
import type { GeoRuntime } from '../../geo/runtime.ts';
import { REPORT_CSS_HASH, renderReportHtml } from '../../report/html.ts';
import { renderMapSvg } from '../../report/map-svg.ts';
import { DEFAULT_CHROMIUM, htmlToPdf, pdfAvailable } from '../../report/pdf.ts';
import { errorBody } from '../errors.ts';
import { createRouter, defineRoute, errorResponse, z } from '../openapi.ts';
import { pathId } from '../schemas.ts';

/** The report's own policy: its one style block (by hash), inline SVG, a data: link to the bundle; no script. */
const REPORT_CSP = `default-src 'none'; style-src '${REPORT_CSS_HASH}'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** The track drawn and listed in the report: thinned evenly beyond this. */
const REPORT_TRACK_POINTS = 5000;

const route = defineRoute({
  method: 'get',
  path: '/{id}/report',
  roles: ['compliance'],
  summary: "A shipment's incident report (HTML or PDF)",
  description:
    'A self-contained printable HTML page: the shipment, items, licences and parties; planned against actual route as an inline SVG map; every alert in plain words with its acknowledge/resolve trail; the timeline in UTC; the evidence bundle generated with it (attached), its digest, seal fingerprint and the command that verifies it. `format=pdf` prints it through the headless Chromium installed on the server, and answers 501 NOT_IMPLEMENTED where none is.',
  request: {
    params: pathId('shp-001'),
    query: z.object({
      format: z.enum(['html', 'pdf']).default('html').openapi({ description: 'html (default) or pdf' }),
    }),
  },
  responses: {
    200: {
      description: 'the report (Content-Disposition: attachment)',
      content: {
        'text/html': { schema: z.string() },
        'application/pdf': { schema: z.string().openapi({ format: 'binary' }) },
      },
    },
    501: errorResponse('NOT_IMPLEMENTED: format=pdf, but no Chromium is installed on this server'),
  },
});

export function reportRouter(db: Pool, sealKey: SealKey, geo: GeoRuntime, chromiumPath = DEFAULT_CHROMIUM) {
  const r = createRouter();
  const tierOf = (f: { id?: string | number; properties: { name: string } }) => {
    const code =
      f.id !== undefined
        ? countries.numericToAlpha2(String(f.id))
        : geo.policy.entitiesByName.get(f.properties.name)?.key;
    const tier = code ? geo.policy.tierOf(code) : 'none';
    return tier === 'none' ? undefined : tier;
  };
  r.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const { format } = c.req.valid('query');
    if (format === 'pdf' && !pdfAvailable(chromiumPath)) {
      return c.json(
        errorBody(
          'NOT_IMPLEMENTED',
          `PDF reports need a headless Chromium at ${chromiumPath}, and this server has none (Debian: apt-get install -y chromium). The HTML report (without format=pdf) prints to PDF from any browser.`,
        ),
        501,
      );
    }
    const shipment = await getShipment(db, id);
    if (!shipment) throw new AppError('NOT_FOUND', `no shipment ${id}`);
    const [track, snapshot] = await Promise.all([
      shipmentTrack(db, shipment.id, REPORT_TRACK_POINTS),
      gatherEvidenceSnapshot(db, shipment, c.get('principal').sub, geo.policy),
    ]);
    const bundle = sealBundle(snapshot, sealKey);
    const alerts = [...bundle.alerts].sort((x, y) => Number(x.id) - Number(y.id));
    const mapSvg = renderMapSvg({
      route: shipment.route.legs.map((l) => l.coordinates),
      corridorKm: shipment.corridorKm,
      track,
      origin: shipment.origin,
      destination: shipment.destination,
      alerts: alerts.flatMap((a, i) => {
        const fix = (a.details.fix ?? a.details.after) as { lat?: unknown; lon?: unknown } | undefined;
        return typeof fix?.lat === 'number' && typeof fix.lon === 'number'
          ? [{ lat: fix.lat, lon: fix.lon, n: i + 1, severity: a.severity }]
          : [];
      }),
      tierOf,
    });
    const html = renderReportHtml({ shipment, bundle, track, mapSvg });
    const name = `incident-report-${id.replace(/[^A-Za-z0-9._-]/g, '_')}`;
    if (format === 'pdf') {
      const pdf = await htmlToPdf(html, chromiumPath);
      return c.body(new Uint8Array(pdf), 200, {
        'Content-Type': 'application/pdf',
        'Content-Disposition': `attachment; filename="${name}.pdf"`,
      });
    }
    return c.body(html, 200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Disposition': `attachment; filename="${name}.html"`,
      'Content-Security-Policy': REPORT_CSP,
    });
  });
  return r;
}
