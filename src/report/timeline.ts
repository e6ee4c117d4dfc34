// A shipment's history on one time axis: registration, departure, first and last fixes, gaps in telemetry, every
// alert's audit entries (opened, acknowledged, resolved, with who and why), arrival. Pure.
import { typeWords } from '../alerts/explain.ts';

export interface TimelineEvent {
  /** RFC 3339. */
  at: string;
  kind: 'shipment' | 'fix' | 'gap' | 'alert';
  text: string;
  actor?: string;
  note?: string | null;
  alertId?: string;
  severity?: string;
}

export interface TimelineInput {
  shipment: {
    createdAt: string;
    startedAt: string | null;
    arrivedAt: string | null;
    installedAt: string | null;
    reportIntervalS: number;
  };
  track: { ts: string; lat: number; lon: number }[];
  alerts: {
    id: string;
    type: string;
    severity: string;
    audit: { at: string; actor: string; action: string; note: string | null }[];
  }[];
}

const ACTION_WORDS: Record<string, string> = {
  opened: 'opened',
  acknowledged: 'acknowledged',
  resolved: 'resolved',
  auto_resolved: 'resolved automatically (condition cleared)',
  escalated: 'escalated',
};

/** A gap is silence longer than three report intervals, and at least an hour. */
export function gapsOf(track: TimelineInput['track'], reportIntervalS: number) {
  const gapMs = Math.max(3 * reportIntervalS * 1000, 3_600_000);
  const gaps: { from: string; to: string; hours: number }[] = [];
  for (let i = 1; i < track.length; i++) {
    const dt = Date.parse(track[i]!.ts) - Date.parse(track[i - 1]!.ts);
    if (dt > gapMs) {
      gaps.push({ from: track[i - 1]!.ts, to: track[i]!.ts, hours: Math.round((dt / 3_600_000) * 10) / 10 });
    }
  }
  return gaps;
}

export function buildTimeline(t: TimelineInput): TimelineEvent[] {
  const s = t.shipment;
  const events: TimelineEvent[] = [{ at: s.createdAt, kind: 'shipment', text: 'Shipment registered' }];
  if (s.startedAt) events.push({ at: s.startedAt, kind: 'shipment', text: 'In transit (first fix)' });
  const first = t.track[0];
  const last = t.track.at(-1);
  if (first)
    events.push({
      at: first.ts,
      kind: 'fix',
      text: `First signed fix (${first.lat.toFixed(3)}, ${first.lon.toFixed(3)})`,
    });
  for (const g of gapsOf(t.track, s.reportIntervalS)) {
    events.push({
      at: g.from,
      kind: 'gap',
      text: `No telemetry for ${g.hours} h (until ${g.to.slice(0, 19).replace('T', ' ')} UTC)`,
    });
  }
  for (const a of t.alerts) {
    for (const e of a.audit) {
      events.push({
        at: e.at,
        kind: 'alert',
        text: `Alert #${a.id} ${typeWords(a.type)} ${ACTION_WORDS[e.action] ?? e.action}`,
        actor: e.actor,
        note: e.note,
        alertId: a.id,
        severity: a.severity,
      });
    }
  }
  if (last && last !== first) {
    events.push({
      at: last.ts,
      kind: 'fix',
      text: `Latest signed fix (${last.lat.toFixed(3)}, ${last.lon.toFixed(3)})`,
    });
  }
  if (s.arrivedAt) events.push({ at: s.arrivedAt, kind: 'shipment', text: 'Arrived at the destination' });
  if (s.installedAt)
    events.push({
      at: s.installedAt,
      kind: 'shipment',
      text: 'Chips attested installed at the destination site',
    });
  return events
    .map((e, i) => ({ e, i }))
    .sort((x, y) => Date.parse(x.e.at) - Date.parse(y.e.at) || x.i - y.i)
    .map(({ e }) => e);
}
