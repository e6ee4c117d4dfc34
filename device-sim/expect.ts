// Expected against observed: which alerts and rejections a scenario must produce, which chipwatch produced, and how
// long (in simulated time) each took to detect. Pure: the runner fetches alerts and rejections through the API.
import type { Expectation } from './scenario.ts';

export interface ObservedAlert {
  id: string;
  type: string;
  status: string;
  shipmentId: string | null;
  deviceId: string | null;
  siteId: string | null;
  openedAt: string;
  firstEvidenceAt?: string | null;
}

export interface ObservedRejection {
  reason: string;
  deviceId: string | null;
  siteId: string | null;
  receivedAt: string;
}

export interface ExpectLine {
  kind: 'alert' | 'rejection';
  type: string;
  /** Raised alerts of this type (0 or 1 usually: one open alert per type and subject), or rejections counted. */
  count: number;
  ok: boolean;
  /** Simulated hours from the incident to the first evidence of the alert. */
  detectH?: number;
  withinH?: number;
}

export interface Verdict {
  ok: boolean;
  lines: ExpectLine[];
  /** Alert types raised that were neither expected nor allowed, and rejection reasons nobody expected. */
  unexpected: { kind: 'alert' | 'rejection'; type: string; count: number }[];
  /** Allowed alert types that were raised (listed, never a failure). */
  allowed: string[];
  /** Genuine fixes the tracker recorded and chipwatch stored; a mismatch fails the scenario. */
  fixes?: { sent: number; stored: number };
}

const hours = (ms: number) => Math.round((ms / 3_600_000) * 100) / 100;

export function judge(o: {
  expect: Expectation[];
  allow: string[];
  alerts: ObservedAlert[];
  rejections: ObservedRejection[];
  incidentAtMs: number;
  fixes?: { sent: number; stored: number };
}): Verdict {
  const lines: ExpectLine[] = [];
  for (const e of o.expect) {
    if ('alert' in e) {
      const raised = o.alerts.filter((a) => a.type === e.alert);
      const firstMs = Math.min(...raised.map((a) => Date.parse(a.firstEvidenceAt ?? a.openedAt)));
      // Clamped: evidence timed on another clock (a site's) may land a moment before the incident instant.
      const detectH = raised.length > 0 ? Math.max(0, hours(firstMs - o.incidentAtMs)) : undefined;
      const late = e.withinH !== undefined && detectH !== undefined && detectH > e.withinH;
      lines.push({
        kind: 'alert',
        type: e.alert,
        count: raised.length,
        ok: raised.length > 0 && !late,
        ...(detectH === undefined ? {} : { detectH }),
        ...(e.withinH === undefined ? {} : { withinH: e.withinH }),
      });
    } else {
      const count = o.rejections.filter((r) => r.reason === e.rejection).length;
      lines.push({ kind: 'rejection', type: e.rejection, count, ok: count > 0 });
    }
  }
  const expectedAlerts = new Set(o.expect.flatMap((e) => ('alert' in e ? [e.alert] : [])));
  const expectedRejections = new Set(o.expect.flatMap((e) => ('rejection' in e ? [e.rejection] : [])));
  const allow = new Set(o.allow);
  const tally = (types: string[]) => {
    const m = new Map<string, number>();
    for (const t of types) m.set(t, (m.get(t) ?? 0) + 1);
    return [...m].sort(([a], [b]) => a.localeCompare(b));
  };
  const unexpected: Verdict['unexpected'] = [
    ...tally(o.alerts.map((a) => a.type).filter((t) => !expectedAlerts.has(t) && !allow.has(t))).map(
      ([type, count]) => ({ kind: 'alert' as const, type, count }),
    ),
    ...tally(o.rejections.map((r) => r.reason).filter((t) => !expectedRejections.has(t))).map(
      ([type, count]) => ({
        kind: 'rejection' as const,
        type,
        count,
      }),
    ),
  ];
  const allowed = [
    ...new Set(o.alerts.map((a) => a.type).filter((t) => !expectedAlerts.has(t) && allow.has(t))),
  ];
  const fixesOk = !o.fixes || o.fixes.sent === o.fixes.stored;
  return {
    ok: lines.every((l) => l.ok) && unexpected.length === 0 && fixesOk,
    lines,
    unexpected,
    allowed,
    ...(o.fixes ? { fixes: o.fixes } : {}),
  };
}

/** The verdict as the end-of-run summary prints it: one line per expectation, then the surprises. */
export function renderVerdict(title: string, v: Verdict): string[] {
  const out = [`${v.ok ? 'PASS' : 'FAIL'}  ${title}`];
  if (v.fixes) {
    const mark = v.fixes.sent === v.fixes.stored ? '✓' : '✗';
    out.push(`   ${mark} fixes stored ${v.fixes.stored} of ${v.fixes.sent} recorded`);
  }
  if (v.lines.length === 0) out.push('   ✓ no alert expected');
  for (const l of v.lines) {
    const mark = l.ok ? '✓' : '✗';
    if (l.kind === 'rejection') {
      out.push(`   ${mark} rejection ${l.type}: ${l.count === 0 ? 'none' : `${l.count} message(s) refused`}`);
    } else if (l.count === 0) {
      out.push(`   ${mark} ${l.type}: never raised`);
    } else {
      const when = l.detectH === undefined ? '' : `detected ${l.detectH} h (simulated) after the incident`;
      const limit = l.withinH === undefined ? '' : `, limit ${l.withinH} h`;
      out.push(`   ${mark} ${l.type}: ${when}${limit}`);
    }
  }
  for (const u of v.unexpected) out.push(`   ✗ unexpected ${u.kind} ${u.type} ×${u.count}`);
  for (const a of v.allowed) out.push(`   · ${a} raised (allowed)`);
  return out;
}
