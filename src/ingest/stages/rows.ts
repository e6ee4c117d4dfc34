// The rows a batch stores, built from its decided messages: pure. Evidence (the signed message as received),
// telemetry fixes, attestations, rejections with a capped raw sample, and per-sender counts for the state rows.

import type { MessageRow, RejectionRow, TelemetryRow } from '../../db/ingest-store.ts';
import type { WindowUpdate } from '../../db/replay-state.ts';
import type { AttestationRow } from '../../db/sites.ts';
import type { SenderKind } from '../../domain/messages.ts';
import type { ReplayWindow } from '../../verify/replay-window.ts';
import type { Refused, VerifiedAttestation, VerifiedTelemetry } from '../../verify/screen.ts';
import type { Decided } from './verdicts.ts';

export interface BatchRows {
  messages: MessageRow[];
  telemetry: TelemetryRow[];
  /** In batch order: site checks run them one by one, each seeing the ones before. */
  attestations: AttestationRow[];
  rejections: RejectionRow[];
  /** Per tracker: its newest fix in the batch. */
  lastFix: Map<string, { ts: number; lat: number; lon: number }>;
  /** Per sender kind and id: messages accepted. */
  accepted: Record<SenderKind, Map<string, number>>;
}

export function batchRows(decided: Decided[], rawCap: (r: Refused) => number): BatchRows {
  const rows: BatchRows = {
    messages: [],
    telemetry: [],
    attestations: [],
    rejections: [],
    lastFix: new Map(),
    accepted: { device: new Map(), site: new Map() },
  };
  for (const d of decided) {
    if (d.kind === 'refused') rows.rejections.push(rejectionRow(d.r, rawCap(d.r)));
    if (d.kind !== 'accepted') continue;
    const v = d.v;
    rows.accepted[v.sender].set(v.senderId, (rows.accepted[v.sender].get(v.senderId) ?? 0) + 1);
    if (v.sender === 'site') rows.attestations.push(attestationRow(v));
    else addTelemetry(rows, v);
  }
  return rows;
}

function addTelemetry(rows: BatchRows, v: VerifiedTelemetry): void {
  const seq = v.payload.seq;
  rows.messages.push({
    deviceId: v.senderId,
    seq,
    payloadSha256: v.payloadSha256,
    kid: v.kid,
    topic: v.msg.topic,
    jws: v.msg.payload.toString('latin1'),
    recordCount: v.payload.records.length,
    receivedAt: v.msg.receivedAt,
  });
  const records = v.payload.records;
  let newest = records[0]!;
  for (let idx = 0; idx < records.length; idx++) {
    const r = records[idx]!;
    if (r.ts > newest.ts) newest = r;
    rows.telemetry.push({
      deviceId: v.senderId,
      ts: r.ts,
      seq,
      idx,
      lat: r.lat,
      lon: r.lon,
      altM: r.altM ?? null,
      speedKmh: r.speedKmh ?? null,
      headingDeg: r.headingDeg ?? null,
      hdop: r.hdop ?? null,
      satellites: r.satellites ?? null,
      batteryPct: r.batteryPct ?? null,
      temperatureC: r.temperatureC ?? null,
      lightLux: r.lightLux ?? null,
      tamper: r.tamper ?? null,
      receivedAt: v.msg.receivedAt,
      shipmentId: null,
      flags: [],
    });
  }
  const prev = rows.lastFix.get(v.senderId);
  if (!prev || newest.ts > prev.ts)
    rows.lastFix.set(v.senderId, { ts: newest.ts, lat: newest.lat, lon: newest.lon });
}

function attestationRow(v: VerifiedAttestation): AttestationRow {
  return {
    siteId: v.senderId,
    seq: v.payload.seq,
    payloadSha256: v.payloadSha256,
    kid: v.kid,
    topic: v.msg.topic,
    jws: v.msg.payload.toString('latin1'),
    receivedAt: v.msg.receivedAt,
    sentAt: v.payload.sentAt,
    lat: v.payload.location.lat,
    lon: v.payload.location.lon,
    chips: v.payload.chips,
    landmarks: v.payload.landmarks,
    flags: [],
  };
}

/** A refusal as stored: printable, bounded text fields and a raw sample of at most `rawCapBytes`. */
export function rejectionRow(r: Refused, rawCapBytes: number): RejectionRow {
  return {
    receivedAt: r.msg.receivedAt,
    topic: printable(r.msg.topic.slice(0, 1024)),
    deviceId: r.sender === 'device' ? r.senderId : null,
    siteId: r.sender === 'site' ? r.senderId : null,
    kid: r.kid === null ? null : printable(r.kid.slice(0, 256)),
    seq: r.seq,
    reason: r.rejection.code,
    detail: printable(r.rejection.message.slice(0, 2000)),
    authenticated: r.authenticated,
    raw: r.msg.payload.subarray(0, rawCapBytes),
    rawSize: r.msg.payload.length,
  };
}

/** The state rows to save: every window the batch locked, its ack floor, its accepted count (and last fix). */
export function windowUpdates(
  sender: SenderKind,
  windows: ReadonlyMap<string, ReplayWindow>,
  floors: ReadonlyMap<string, number>,
  rows: BatchRows,
): WindowUpdate[] {
  return [...windows].map(([senderId, window]) => ({
    senderId,
    window,
    floor: floors.get(senderId)!,
    messages: rows.accepted[sender].get(senderId) ?? 0,
    ...(sender === 'device' ? { lastFix: rows.lastFix.get(senderId) ?? null } : {}),
  }));
}

/**
 * Text from a refused message as PostgreSQL can store it: control characters written as `\uXXXX`, unpaired
 * surrogates as U+FFFD. A NUL in a topic must cost its message nothing but the escape, and its batch nothing.
 */
export function printable(s: string): string {
  return (
    s
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
  );
}
