// The attestation half of the ingest path: the same rules as telemetry (JWS header rules, pinned keys, signature
// on the thread pool, replay window per site, rejections with reason codes, ack after commit), then the physics and
// custody checks, all inside the batch's transaction.

import { createHash } from 'node:crypto';
import { applyAlertEvents } from '../alerts/apply.ts';
import {
  impossibleTravel,
  locationMismatch,
  missingChips,
  rttViolations,
  type SiteInfo,
  unexpectedChips,
} from '../checks/attestation.ts';
import { siteParams } from '../checks/site-params.ts';
import { storedHashes } from '../db/ingest-store.ts';
import { landmarksById } from '../db/landmarks.ts';
import type { PoolClient } from '../db/pool.ts';
import {
  type AttestationRow,
  chipExpectations,
  deliveredChips,
  getSite,
  insertAttestation,
  lastSeenAt,
  lockSiteStates,
  markInstalled,
  recordChipSightings,
  type SiteKeyRecord,
  saveSiteLatest,
  saveSiteWindows,
  sightingsElsewhere,
  siteKeyRevocations,
} from '../db/sites.ts';
import type { AlertChange, AlertType, SubjectEvent } from '../domain/alerts.ts';
import { asRejection, Rejection } from '../domain/errors.ts';
import { type AttestationPayload, parseAttestation } from '../verify/attestation-schema.ts';
import { ATTESTATION_TYP, type ParsedJws, parseCompactJws } from '../verify/jws.ts';
import { toKeyObject } from '../verify/keys.ts';
import type { ReplayWindow } from '../verify/replay-window.ts';
import { checkSigner, type SignerKey } from '../verify/signer.ts';
import { peekSeq } from '../verify/telemetry-schema.ts';
import { decideSeqs, pairsToLookUp } from './decide.ts';
import type { Inbound } from './pipeline.ts';
import { parseAttestationTopic } from './topics.ts';

/** Advisory lock class of the per-serial-bucket sighting locks (any constant no other lock in chipwatch uses). */
const SIGHTING_LOCK_CLASS = 720_451;

export interface VerifiedAttestation {
  kind: 'verified';
  msg: Inbound;
  siteId: string;
  kid: string;
  payload: AttestationPayload;
  payloadSha256: Buffer;
}

export interface RefusedAttestation {
  kind: 'refused';
  msg: Inbound;
  rejection: Rejection;
  siteId: string | null;
  kid: string | null;
  seq: number | null;
  authenticated: boolean;
}

export type ScreenedAttestation = VerifiedAttestation | RefusedAttestation;

function refuse(
  msg: Inbound,
  e: unknown,
  ctx: { siteId?: string | null; kid?: string | null; seq?: number | null; authenticated?: boolean } = {},
): RefusedAttestation {
  return {
    kind: 'refused',
    msg,
    rejection: asRejection(e),
    siteId: ctx.siteId ?? null,
    kid: ctx.kid ?? null,
    seq: ctx.seq ?? null,
    authenticated: ctx.authenticated ?? false,
  };
}

export interface AttestationOptions {
  topicPrefix: string;
  maxMessageBytes: number;
  maxClockSkewMs: number;
  now: () => number;
  lookupKeys: (kids: string[]) => Promise<SiteKeyRecord[]>;
}

/** Envelope, key, signature, payload and subject of attestation messages; no transaction needed. */
export class AttestationScreen {
  private readonly keys = new Map<string, SignerKey>();

  constructor(private readonly opts: AttestationOptions) {}

  async screen(batch: Inbound[]): Promise<ScreenedAttestation[]> {
    const envelopes = batch.map((msg) => {
      const siteId = parseAttestationTopic(this.opts.topicPrefix, msg.topic) ?? null;
      try {
        if (msg.payload.length > this.opts.maxMessageBytes) {
          throw new Rejection(
            'PAYLOAD_TOO_LARGE',
            `${msg.payload.length} bytes, the limit is ${this.opts.maxMessageBytes}`,
          );
        }
        if (siteId === null)
          throw new Rejection('MALFORMED', `not an attestation topic: ${msg.topic.slice(0, 200)}`);
        return { msg, siteId, jws: parseCompactJws(msg.payload, ATTESTATION_TYP) };
      } catch (e) {
        return refuse(msg, e, { siteId });
      }
    });
    const missing = [
      ...new Set(envelopes.flatMap((e) => ('jws' in e && !this.keys.has(e.jws.kid) ? [e.jws.kid] : []))),
    ];
    if (missing.length > 0) {
      for (const rec of await this.opts.lookupKeys(missing)) {
        this.keys.set(rec.kid, { ownerId: rec.siteId, alg: rec.alg, key: toKeyObject(rec.jwk) });
      }
    }
    return Promise.all(envelopes.map((e) => ('jws' in e ? this.authenticate(e.msg, e.siteId, e.jws) : e)));
  }

  private async authenticate(msg: Inbound, siteId: string, jws: ParsedJws): Promise<ScreenedAttestation> {
    const ctx = { siteId, kid: jws.kid, seq: peekSeq(jws.payload) ?? null };
    try {
      await checkSigner(jws, this.keys.get(jws.kid), { kind: 'site', id: siteId });
    } catch (e) {
      return refuse(msg, e, ctx);
    }
    try {
      const payload = parseAttestation(jws.payload, this.opts.now(), this.opts.maxClockSkewMs);
      if (payload.siteId !== siteId) {
        throw new Rejection(
          'SUBJECT_MISMATCH',
          `payload siteId "${payload.siteId.slice(0, 128)}" is not the topic's site`,
        );
      }
      const payloadSha256 = createHash('sha256').update(jws.payload).digest();
      return { kind: 'verified', msg, siteId, kid: jws.kid, payload, payloadSha256 };
    } catch (e) {
      return refuse(msg, e, { ...ctx, authenticated: true });
    }
  }
}

export type AttestationVerdict =
  | { kind: 'accepted'; siteId: string; seq: number }
  | { kind: 'duplicate'; siteId: string; seq: number }
  | { kind: 'rejected'; refused: RefusedAttestation };

export interface AttestationCommit {
  verdicts: AttestationVerdict[];
  /** Site → seq to acknowledge on `{prefix}/sites/{id}/ack`. */
  acks: Map<string, number>;
  alerts: AlertChange[];
}

/** Revocations, replay window, evidence rows and checks of a batch's attestations, in the batch's transaction. */
export async function commitAttestations(
  c: PoolClient,
  screened: ScreenedAttestation[],
): Promise<AttestationCommit> {
  if (screened.length === 0) return { verdicts: [], acks: new Map(), alerts: [] };
  const verdicts: AttestationVerdict[] = new Array(screened.length);
  const verified: { i: number; v: VerifiedAttestation }[] = [];
  const revokedAt = await siteKeyRevocations(
    c,
    screened.flatMap((s) => (s.kind === 'verified' ? [s.kid] : [])),
  );
  screened.forEach((s, i) => {
    if (s.kind === 'refused') {
      verdicts[i] = { kind: 'rejected', refused: s };
      return;
    }
    const revoked = revokedAt.get(s.kid);
    if (revoked !== undefined && revoked !== null && revoked <= s.msg.receivedAt) {
      verdicts[i] = {
        kind: 'rejected',
        refused: refuse(
          s.msg,
          new Rejection('KEY_REVOKED', `key "${s.kid}" was revoked at ${new Date(revoked).toISOString()}`),
          {
            siteId: s.siteId,
            kid: s.kid,
            seq: s.payload.seq,
          },
        ),
      };
    } else verified.push({ i, v: s });
  });

  const authRefused = screened.flatMap((s) =>
    s.kind === 'refused' && s.authenticated && s.siteId ? [s.siteId] : [],
  );
  const windows = await lockSiteStates(c, [...verified.map(({ v }) => v.siteId), ...authRefused]);
  const candidates = verified.map(({ v }) => ({
    deviceId: v.siteId,
    seq: v.payload.seq,
    payloadSha256: v.payloadSha256,
  }));
  const decided = decideSeqs(
    windows,
    candidates,
    await storedHashes(c, pairsToLookUp(windows, candidates), 'site'),
  );

  const events: SubjectEvent[] = [];
  const accepted = new Map<string, number>();
  for (const [k, { i, v }] of verified.entries()) {
    const d = decided.decisions[k]!;
    const seq = v.payload.seq;
    if (d === 'duplicate') {
      verdicts[i] = { kind: 'duplicate', siteId: v.siteId, seq };
      continue;
    }
    if (d !== 'accept') {
      const detail =
        d === 'REPLAY'
          ? `seq ${seq} was already accepted with a different payload`
          : `seq ${seq} is below the replay window and was never accepted with this payload`;
      verdicts[i] = {
        kind: 'rejected',
        refused: refuse(v.msg, new Rejection(d, detail), {
          siteId: v.siteId,
          kid: v.kid,
          seq,
          authenticated: true,
        }),
      };
      continue;
    }
    const row: AttestationRow = {
      siteId: v.siteId,
      seq,
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
    events.push(...(await checkAttestation(c, row)));
    await insertAttestation(c, row);
    await saveSiteLatest(c, row);
    accepted.set(v.siteId, (accepted.get(v.siteId) ?? 0) + 1);
    verdicts[i] = { kind: 'accepted', siteId: v.siteId, seq };
  }
  await saveSiteWindows(c, decided.windows, accepted);

  const acks = new Map<string, number>();
  for (const v of verdicts) {
    const siteId = v.kind === 'rejected' ? (v.refused.authenticated ? v.refused.siteId : null) : v.siteId;
    const w: ReplayWindow | undefined = siteId ? decided.windows.get(siteId) : undefined;
    if (siteId && w && w.highest >= 0) acks.set(siteId, w.highest);
  }
  return { verdicts, acks, alerts: await applyAlertEvents(c, events) };
}

/** Runs every check of one accepted attestation; sets the row's flags; returns the alert events. */
async function checkAttestation(c: PoolClient, row: AttestationRow): Promise<SubjectEvent[]> {
  const site = await getSite(c, row.siteId);
  if (!site) return [];
  const params = siteParams(site.params);
  const info: SiteInfo = { id: site.id, lat: site.lat, lon: site.lon, radiusKm: site.radiusKm };
  const claim = { lat: row.lat, lon: row.lon };
  const at = row.sentAt;
  const events: SubjectEvent[] = [];
  const raise = (type: AlertType, subject: string, details: Record<string, unknown>, siteId = site.id) =>
    events.push({ type, action: 'raise', at, subject, shipmentId: null, deviceId: null, siteId, details });
  const resolve = (type: AlertType, subject: string, reason: string) =>
    events.push({
      type,
      action: 'resolve',
      at,
      subject,
      shipmentId: null,
      deviceId: null,
      siteId: site.id,
      details: { reason },
    });

  const mismatch = locationMismatch(info, claim);
  if (mismatch) {
    row.flags.push('LOCATION_MISMATCH');
    raise('ATTESTATION_LOCATION_MISMATCH', `site:${site.id}`, {
      seq: row.seq,
      claimed: claim,
      registered: { lat: site.lat, lon: site.lon },
      radiusKm: site.radiusKm,
      distanceKm: mismatch.distanceKm,
    });
  }

  const rtt = rttViolations(
    claim,
    row.landmarks,
    await landmarksById(
      c,
      row.landmarks.map((l) => l.landmarkId),
    ),
  );
  if (rtt.unknown.length > 0) row.flags.push('UNKNOWN_LANDMARK');
  if (rtt.violations.length > 0) {
    row.flags.push('RTT_IMPLAUSIBLE');
    raise('ATTESTATION_RTT_IMPLAUSIBLE', `site:${site.id}`, {
      seq: row.seq,
      claimed: claim,
      violations: rtt.violations,
      rule: 'distance from landmark > RTT × 299.79 km/ms ÷ 2 (light in vacuum)',
    });
  }

  const unexpected = unexpectedChips(info, row.chips, await chipExpectations(c, row.chips));
  if (unexpected.length > 0) {
    raise('CHIP_AT_UNEXPECTED_SITE', `site:${site.id}`, {
      seq: row.seq,
      serials: unexpected.map((u) => u.serial),
      chips: unexpected.slice(0, 100),
    });
  }
  // Two workers taking attestations of the same serial from two sites at once would each miss the other's
  // uncommitted sighting: serialise them per serial bucket (256 buckets, taken in order, so no deadlock), so the
  // second one reads the first's sighting once it is committed.
  if (row.chips.length > 0) {
    await c.query(
      `SELECT pg_advisory_xact_lock(${SIGHTING_LOCK_CLASS}, b)
         FROM (SELECT DISTINCT abs(hashtext(s)) % 256 AS b FROM unnest($1::text[]) AS s ORDER BY 1) AS buckets`,
      [row.chips],
    );
  }
  const travel = impossibleTravel(
    claim,
    at,
    await sightingsElsewhere(c, site.id, row.chips),
    params.chipMaxTravelKmh,
  );
  for (const t of travel) {
    const details = {
      seq: row.seq,
      serials: [t.serial],
      reason: 'attested at two sites farther apart than it could travel',
      ...t,
      siteId: site.id,
    };
    raise('CHIP_AT_UNEXPECTED_SITE', `site:${site.id}`, details);
    raise('CHIP_AT_UNEXPECTED_SITE', `site:${t.otherSiteId}`, details, t.otherSiteId);
  }

  await recordChipSightings(c, site.id, row.chips, at);
  // Only the site's newest attestation says what runs there now: a late or backdated one (older than one already
  // taken) neither raises nor clears CHIP_MISSING.
  const newest = site.lastAttestedAt === null || at >= site.lastAttestedAt.getTime();
  const delivered = newest ? await deliveredChips(c, site.id) : [];
  const missing = missingChips(
    delivered,
    await lastSeenAt(
      c,
      site.id,
      delivered.map((d) => d.serial),
    ),
    at,
    params.chipMissingAfterS * 1000,
  );
  if (missing.length > 0) {
    raise('CHIP_MISSING', `site:${site.id}:chips`, {
      seq: row.seq,
      serials: missing.map((m) => m.serial),
      chips: missing.slice(0, 100).map((m) => ({ ...m, absentSince: new Date(m.absentSince).toISOString() })),
      afterS: params.chipMissingAfterS,
    });
  } else if (delivered.length > 0) {
    resolve('CHIP_MISSING', `site:${site.id}:chips`, 'every delivered serial attested again');
  }
  if (newest) resolve('CHIP_MISSING', `site:${site.id}:silent`, 'the site attests again');
  await markInstalled(c, site.id, row.chips, at);
  return events;
}
