// The incident report: one self-contained, printable HTML page a compliance officer can file with a regulator —
// the shipment, its items, licences and parties; the planned against the actual route (inline SVG); every alert in
// plain words with its full acknowledge/resolve trail; the timeline in UTC; and the evidence bundle it rests on
// (attached, with its digest, the seal's key fingerprint and the command that verifies it). Pure.
import { createHash } from 'node:crypto';
import { explainAlert, typeWords } from '../alerts/explain.ts';
import type { ShipmentRecord } from '../checks/shipment.ts';
import type { EvidenceBundle } from '../evidence/bundle.ts';
import { escapeHtml as esc, utcTime } from './text.ts';
import { buildTimeline, gapsOf } from './timeline.ts';

/** Alert types in the order a summary leads with them (absent types last). */
const LEAD = [
  'RESTRICTED_ZONE_ENTERED',
  'DIVERSION_TOWARD_RESTRICTED',
  'CHIP_AT_UNEXPECTED_SITE',
  'DESTINATION_MISMATCH',
  'TAMPER',
  'ATTESTATION_RTT_IMPLAUSIBLE',
  'ATTESTATION_LOCATION_MISMATCH',
  'GAP_WITH_DISPLACEMENT',
  'SPOOFING_SUSPECTED',
  'ROUTE_DEVIATION',
];

export interface ReportInput {
  shipment: ShipmentRecord;
  /** The sealed bundle generated with the report: its digest is the one the report names. */
  bundle: EvidenceBundle;
  track: { ts: string; lat: number; lon: number }[];
  mapSvg: string;
}

export const REPORT_CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;margin:0 auto;max-width:60rem;padding:1.5rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.75rem 0 .5rem;border-bottom:2px solid #102a43;padding-bottom:.2rem}
h3{font-size:1rem;margin:1rem 0 .25rem}.muted{color:#52606d}
table{border-collapse:collapse;width:100%;margin:.25rem 0}th,td{border:1px solid #cbd2d9;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dl.facts dt{font-weight:600}
dl.facts dd{margin:0}.sev{font-weight:700;padding:0 .35em;border-radius:3px;color:#fff}.sev-critical{background:#b91c1c}
.sev-warning{background:#8a4b08}.sev-info{background:#1d4ed8}.alert{border:1px solid #cbd2d9;border-radius:6px;padding:.5rem .75rem;margin:.75rem 0;break-inside:avoid}
.explanation{font-size:1.02rem}code,pre{font:12px ui-monospace,monospace;background:#f0f4f8;padding:.1rem .25rem;overflow-wrap:anywhere;white-space:pre-wrap}
.report-map{border:1px solid #52606d;max-width:100%;height:auto}.legend span{display:inline-block;margin-right:1rem}
.swatch{display:inline-block;width:.9em;height:.9em;vertical-align:middle;margin-right:.3em;border:1px solid #52606d}caption{text-align:left}
.sw-route{background:#1d4ed8}.sw-track{background:#6b21a8}.sw-restricted{background:#f8b4b4}.sw-licence{background:#fcd9b6}.sw-watch{background:#fdf0b5}
@media print{body{padding:0;max-width:none;font-size:11pt}a{color:inherit}.no-print{display:none}h2{break-after:avoid}}
@page{size:A4;margin:15mm}`;

/** The CSP hash of REPORT_CSS: the report is served under a policy that allows that one style block and nothing else. */
export const REPORT_CSS_HASH = `sha256-${createHash('sha256').update(REPORT_CSS).digest('base64')}`;

const placeText = (p: { name?: string; lat: number; lon: number; radiusKm?: number; siteId?: string }) =>
  `${p.name ? `${p.name} ` : ''}${p.siteId ? `(site ${p.siteId}) ` : ''}${p.lat.toFixed(3)}, ${p.lon.toFixed(3)}${p.radiusKm ? `, within ${p.radiusKm} km` : ''}`;

const row = (k: string, v: string) => `<dt>${esc(k)}</dt><dd>${v}</dd>`;

export function verifyCommand(shipmentId: string, fingerprint: string) {
  return `npx chipwatch verify-evidence ${bundleFileName(shipmentId)} --key ${fingerprint}`;
}
export const bundleFileName = (id: string) => `evidence-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;

export function renderReportHtml(r: ReportInput): string {
  const s = r.shipment;
  const b = r.bundle;
  const alerts = [...b.alerts].sort((x, y) => Number(x.id) - Number(y.id));
  const open = alerts.filter((a) => a.status !== 'resolved');
  const critical = alerts.filter((a) => a.severity === 'critical');
  const gaps = gapsOf(r.track, s.reportIntervalS);
  const bundleJson = JSON.stringify(b);
  const missing = (b.completeness?.senders ?? []).reduce(
    (n, x) => n + ((x as { missing?: unknown[] }).missing?.length ?? 0),
    0,
  );

  // The summary leads with what a regulator asks first: entries and diversions, then the other critical alerts.
  const weight = (a: (typeof alerts)[number]) =>
    (a.status === 'resolved' ? 0 : 100) +
    (a.severity === 'critical' ? 50 : 0) +
    (LEAD.includes(a.type) ? LEAD.length - LEAD.indexOf(a.type) : 0);
  const leading = [...alerts].sort((x, y) => weight(y) - weight(x)).slice(0, 3);
  const summary =
    alerts.length === 0
      ? 'chipwatch raised no alert for this shipment.'
      : `chipwatch raised ${alerts.length} alert(s) for this shipment, ${critical.length} critical; ${open.length} not yet resolved.`;

  const alertBlocks = alerts
    .map(
      (a, i) => `<section class="alert" id="alert-${esc(a.id)}" aria-labelledby="alert-h-${esc(a.id)}">
<h3 id="alert-h-${esc(a.id)}">${i + 1}. <span class="sev sev-${esc(a.severity)}">${esc(a.severity.toUpperCase())}</span> ${esc(typeWords(a.type))} <span class="muted">(${esc(a.type)}, alert #${esc(a.id)}, ${esc(a.status)})</span></h3>
<p class="explanation">${esc(explainAlert(a))}</p>
<p class="muted">Opened ${utcTime(a.openedAt)}; evidence from ${utcTime(a.firstEvidenceAt)} to ${utcTime(a.lastEvidenceAt)}, seen ${a.count} time(s).</p>
<table class="audit"><caption class="muted">Acknowledge / resolve trail</caption>
<thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Note</th></tr></thead><tbody>
${a.audit.map((e) => `<tr><td>${utcTime(e.at)}</td><td>${esc(e.actor)}</td><td>${esc(e.action.replace('_', ' '))}</td><td>${esc(e.note ?? '')}</td></tr>`).join('\n')}
</tbody></table>
<details><summary>Raw details</summary><pre>${esc(JSON.stringify(a.details, null, 2))}</pre></details>
</section>`,
    )
    .join('\n');

  const timeline = buildTimeline({ shipment: s, track: r.track, alerts })
    .map(
      (e) =>
        `<tr><td>${utcTime(e.at)}</td><td>${esc(e.text)}</td><td>${esc(e.actor ?? '')}</td><td>${esc(e.note ?? '')}</td></tr>`,
    )
    .join('\n');

  const licences =
    s.licenses.length === 0
      ? 'none cited'
      : s.licenses.map((l) => `${esc(l.number)} (${esc(l.country)})`).join(', ');
  const mapNumbers = alerts
    .map((a, i) => ({ a, n: i + 1 }))
    .filter(({ a }) => typeof (a.details.fix as { lat?: unknown } | undefined)?.lat === 'number');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Incident report — shipment ${esc(s.id)}</title><style>${REPORT_CSS}</style></head>
<body><main>
<header><h1>Incident report — shipment ${esc(s.id)}</h1>
<p class="muted">Generated ${utcTime(b.generatedAt)} by ${esc(b.generatedBy)} from chipwatch's records. All times are UTC.</p></header>
<h2>Summary</h2><p class="explanation">${esc(summary)}</p>
${leading.map((a) => `<p class="explanation"><strong>${esc(typeWords(a.type))}:</strong> ${esc(explainAlert(a))}</p>`).join('\n')}
<h2>Shipment</h2><dl class="facts">
${row('Reference', esc(s.reference ?? '—'))}${row('Customer (end user)', esc(s.customer ?? '—'))}
${row('Status', esc(s.status.replace('_', ' ')))}${row('Mode', esc(s.mode))}${row('Tracker', esc(s.deviceId))}
${row('Origin', esc(placeText(s.origin)))}${row('Destination', esc(placeText(s.destination)))}
${row('Items', `${s.chips.length} chip serial(s)${s.chips.length ? `: <code>${esc(s.chips.slice(0, 50).join(', '))}${s.chips.length > 50 ? ', …' : ''}</code>` : ''}`)}
${row('Licences', licences)}
${row('Restricted countries', esc(s.restrictedCountries?.join(', ') ?? 'the default policy'))}
${row('Planned route', `${Math.round(s.route.lengthKm).toLocaleString('en-GB')} km, corridor ${s.corridorKm} km either side, a fix every ${s.reportIntervalS} s expected`)}
${row('Registered', `${utcTime(s.createdAt)}; departed ${utcTime(s.startedAt)}; arrived ${utcTime(s.arrivedAt)}`)}
${row('Track', `${r.track.length} signed fixes${r.track.length ? ` from ${utcTime(r.track[0]!.ts)} to ${utcTime(r.track.at(-1)!.ts)}` : ''}; ${gaps.length} gap(s) longer than three report intervals`)}
</dl>
<h2>Planned and actual route</h2>
${r.mapSvg}
<p class="legend muted"><span><span class="swatch sw-route"></span>planned route and corridor</span><span><span class="swatch sw-track"></span>actual track</span><span><span class="swatch sw-restricted"></span>restricted</span><span><span class="swatch sw-licence"></span>licence required</span><span><span class="swatch sw-watch"></span>transshipment watch</span>${mapNumbers.length ? ` Numbered points: alerts ${mapNumbers.map(({ n }) => n).join(', ')} below.` : ''}</p>
<h2>Alerts</h2>
${alertBlocks || '<p>None.</p>'}
<h2>Timeline (UTC)</h2>
<table class="timeline"><thead><tr><th scope="col">When (UTC)</th><th scope="col">What</th><th scope="col">Who</th><th scope="col">Note</th></tr></thead><tbody>
${timeline}
</tbody></table>
<h2>Evidence</h2>
<p>This report rests on the evidence bundle chipwatch generated with it: ${b.messages.length} signed message(s) exactly as received, the public keys that signed them, and the alerts with their hash-chained audit trail${missing ? `; ${missing} sequence number(s) are missing from what the senders sent (listed in the bundle)` : '; no sequence number is missing'}.</p>
<dl class="facts">
${row('Digest', `<code>${esc(b.digest.alg)}:${esc(b.digest.value)}</code>`)}
${row('Sealed by key', `<code>${esc(b.seal.fingerprint)}</code> (${esc(b.seal.alg)}; compare with <code>GET /v1/evidence/key</code> or the fingerprint you pinned)`)}
${row('Verify with', `<code>${esc(verifyCommand(s.id, b.seal.fingerprint))}</code>`)}
</dl>
<p class="no-print"><a download="${esc(bundleFileName(s.id))}" href="data:application/json;base64,${Buffer.from(bundleJson).toString('base64')}">Save the evidence bundle of this report (${Math.max(1, Math.round(bundleJson.length / 1024))} KB)</a>. A bundle downloaded later has its own time and digest; both verify the same way.</p>
</main></body></html>`;
}
