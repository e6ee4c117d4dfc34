// What a bundle covers, per sender: the seq range of its messages, every seq missing inside that range, and the
// stretches of time with no observation. A bundle states this section (covered by the seal) and the verifier
// recomputes it from the messages it verified, so a message dropped from a bundle shows even when the bundle was
// re-sealed with the right key. Pure: no I/O, no clock.
import { parseStrictJson } from './strict-json.ts';

/** The part of a bundle message completeness reads (bundle.ts's SignedMessage fits). */
export interface SignedMessage {
  kind: 'telemetry' | 'attestation';
  jws: string;
}

/** A device is silent too long after this many report intervals (the SIGNAL_LOST default)... */
export const GAP_REPORT_INTERVALS = 3;
/** ...but never less than an hour, so a tracker reporting every minute is not flagged for a tunnel. */
export const MIN_DEVICE_GAP_S = 3600;
/** A site attests hourly: three missed attestations (the siteSilentAfterS default) are a gap. */
export const SITE_GAP_S = 3 * 3600;

/** Inclusive: `{ from: 4, to: 6 }` is seqs 4, 5 and 6. */
export interface SeqRange {
  from: number;
  to: number;
}

export interface TimeGap {
  /** The observation before the gap and the one after it, ISO 8601. */
  from: string;
  to: string;
  seconds: number;
}

export interface SenderCompleteness {
  sender: 'device' | 'site';
  id: string;
  /** Messages from this sender in the bundle. */
  messages: number;
  seq: { first: number; last: number };
  /** Every seq in [first, last] that no message in the bundle carries, as inclusive ranges in ascending order. */
  missing: SeqRange[];
  missingCount: number;
  /** Seqs carried by more than one message (chipwatch stores one message per seq: never expected). */
  duplicateSeqs: number[];
  /** The earliest and latest observation: a fix's `ts` for telemetry, `sentAt` for an attestation. */
  time: { first: string; last: string } | null;
  gapThresholdS: number;
  /** Consecutive observations (in time order) more than gapThresholdS apart. */
  gaps: TimeGap[];
}

export interface Completeness {
  senders: SenderCompleteness[];
}

/** What one message tells about coverage: who sent it, its seq, and the times it observed. */
export interface Observation {
  sender: 'device' | 'site';
  id: string;
  seq: number;
  timesMs: number[];
}

/** The gap threshold for a sender, from the shipment's report interval (devices) or the fixed site cadence. */
export function gapThresholdS(sender: 'device' | 'site', reportIntervalS: number): number {
  return sender === 'site' ? SITE_GAP_S : Math.max(GAP_REPORT_INTERVALS * reportIntervalS, MIN_DEVICE_GAP_S);
}

/** Reads a message's payload without checking its signature (the verifier uses only verified payloads). */
export function observationOf(m: SignedMessage): Observation | undefined {
  try {
    const payload = m.jws.split('.')[1];
    if (payload === undefined) return undefined;
    const p = parseStrictJson(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    return observationFromPayload(m.kind, p);
  } catch {
    return undefined;
  }
}

/** A parsed telemetry or attestation payload → its observation; undefined when it lacks a sender or seq. */
export function observationFromPayload(
  kind: SignedMessage['kind'],
  p: Record<string, unknown>,
): Observation | undefined {
  const id = kind === 'telemetry' ? p.deviceId : p.siteId;
  const seq = p.seq;
  if (typeof id !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
    return undefined;
  const times =
    kind === 'telemetry'
      ? (Array.isArray(p.records) ? p.records : []).map((r) => (r as { ts?: unknown })?.ts)
      : [p.sentAt];
  return {
    sender: kind === 'telemetry' ? 'device' : 'site',
    id,
    seq,
    timesMs: times.filter((t): t is number => typeof t === 'number' && Number.isFinite(t)),
  };
}

/** The completeness section of a bundle: what `gatherEvidence` states and the verifier recomputes. */
export function completeness(messages: SignedMessage[], reportIntervalS: number): Completeness {
  return completenessOf(
    messages.map(observationOf).filter((o): o is Observation => o !== undefined),
    reportIntervalS,
  );
}

export function completenessOf(observations: Observation[], reportIntervalS: number): Completeness {
  const bySender = new Map<string, Observation[]>();
  for (const o of observations) {
    const key = `${o.sender}\u0000${o.id}`;
    const list = bySender.get(key);
    if (list) list.push(o);
    else bySender.set(key, [o]);
  }
  const senders = [...bySender.values()].map((list) => ofSender(list, reportIntervalS));
  // Devices before sites, then by id: one order, so the stated and recomputed sections compare byte for byte.
  senders.sort((a, b) =>
    a.sender !== b.sender ? (a.sender === 'device' ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  return { senders };
}

const iso = (ms: number) => {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
};

function ofSender(list: Observation[], reportIntervalS: number): SenderCompleteness {
  const { sender, id } = list[0]!;
  const seqs = list.map((o) => o.seq).sort((a, b) => a - b);
  const duplicateSeqs: number[] = [];
  const missing: SeqRange[] = [];
  let missingCount = 0;
  for (let i = 1; i < seqs.length; i++) {
    const prev = seqs[i - 1]!;
    const cur = seqs[i]!;
    if (cur === prev) {
      if (duplicateSeqs.at(-1) !== cur) duplicateSeqs.push(cur);
    } else if (cur > prev + 1) {
      missing.push({ from: prev + 1, to: cur - 1 });
      missingCount += cur - prev - 1;
    }
  }
  const times = list.flatMap((o) => o.timesMs).sort((a, b) => a - b);
  const thresholdS = gapThresholdS(sender, reportIntervalS);
  const gaps: TimeGap[] = [];
  for (let i = 1; i < times.length; i++) {
    const dtMs = times[i]! - times[i - 1]!;
    if (dtMs > thresholdS * 1000) {
      gaps.push({ from: iso(times[i - 1]!), to: iso(times[i]!), seconds: Math.round(dtMs / 1000) });
    }
  }
  return {
    sender,
    id,
    messages: list.length,
    seq: { first: seqs[0]!, last: seqs.at(-1)! },
    missing,
    missingCount,
    duplicateSeqs,
    time: times.length ? { first: iso(times[0]!), last: iso(times.at(-1)!) } : null,
    gapThresholdS: thresholdS,
    gaps,
  };
}
