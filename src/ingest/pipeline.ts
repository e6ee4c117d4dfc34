// The data path, top to bottom: bytes → topic → envelope → key → signature → payload schema → subject binding →
// replay window → store batch → commit → acks. Only `commitBatch` and key lookups touch the database; every
// other stage takes values and returns values. Errors are caught here, per message: a refused message becomes a
// stored rejection and the batch goes on.

import { createHash } from 'node:crypto';
import { applyAlertEvents } from '../alerts/apply.ts';
import { BAD_MESSAGE_ALERTS, badMessageEvents } from '../checks/bad-messages.ts';
import { runCheckStage } from '../checks/stage.ts';
import type { CheckParams, Fix } from '../checks/types.ts';
import type { Config } from '../config.ts';
import { findKeys, type KeyRecord } from '../db/devices.ts';
import {
  insertMessages,
  insertRejections,
  insertTelemetry,
  keyRevocations,
  lockDeviceStates,
  type MessageRow,
  type RejectionRow,
  storedHashes,
  type TelemetryRow,
  updateDeviceStates,
} from '../db/ingest-store.ts';
import { type Pool, type PoolClient, withTransaction } from '../db/pool.ts';
import { findSiteKeys } from '../db/sites.ts';
import type { AlertChange } from '../domain/alerts.ts';
import { asRejection, Rejection, type RejectionCode } from '../domain/errors.ts';
import type { GeoRuntime } from '../geo/runtime.ts';
import { type ParsedJws, parseCompactJws, TELEMETRY_TYP } from '../verify/jws.ts';
import { toKeyObject } from '../verify/keys.ts';
import type { ReplayWindow } from '../verify/replay-window.ts';
import { checkSigner, type SignerKey } from '../verify/signer.ts';
import { parseTelemetry, peekSeq, type TelemetryPayload } from '../verify/telemetry-schema.ts';
import { AttestationScreen, commitAttestations, type ScreenedAttestation } from './attestations.ts';
import { decideSeqs, pairsToLookUp } from './decide.ts';
import { parseAttestationTopic, parseTelemetryTopic } from './topics.ts';

export interface Inbound {
  topic: string;
  payload: Buffer;
  /** Epoch ms when chipwatch took the message from the broker. */
  receivedAt: number;
}

export type Verdict =
  | { kind: 'accepted'; deviceId: string | null; siteId?: string; seq: number; records: number }
  | { kind: 'duplicate'; deviceId: string | null; siteId?: string; seq: number }
  | {
      kind: 'rejected';
      reason: RejectionCode;
      detail: string;
      deviceId: string | null;
      siteId?: string | null;
      seq: number | null;
      /** The signature verified with a valid key: the seq is the device's own, so it may be acknowledged. */
      authenticated: boolean;
    };

export interface BatchOutcome {
  verdicts: Verdict[];
  /** Device → seq to acknowledge (every message up to it is committed or finally rejected). */
  acks: Map<string, number>;
  /** Site → seq to acknowledge on the site's ack topic. */
  siteAcks: Map<string, number>;
  /** Alerts this batch opened, updated or resolved (committed with it). */
  alerts: AlertChange[];
}

/** A message that passed every check needing no database: ready for the replay window and storage. */
interface Verified {
  kind: 'verified';
  msg: Inbound;
  deviceId: string;
  kid: string;
  jws: ParsedJws;
  payload: TelemetryPayload;
  payloadSha256: Buffer;
}

interface Refused {
  kind: 'refused';
  msg: Inbound;
  rejection: Rejection;
  deviceId: string | null;
  kid: string | null;
  seq: number | null;
  authenticated: boolean;
}

/** An attestation, screened by its own stage (src/ingest/attestations.ts). */
interface Attestation {
  kind: 'attestation';
  a: ScreenedAttestation;
}

export type Screened = Verified | Refused | Attestation;

export interface PipelineOptions {
  topicPrefix: string;
  maxMessageBytes: number;
  rawCapBytes: number;
  maxClockSkewMs: number;
  /** Global check thresholds (CHECK_PARAMS); a shipment's own params override them. */
  checkParams?: Partial<CheckParams>;
  now?: () => number;
}

export function pipelineOptions(config: Config): PipelineOptions {
  return {
    topicPrefix: config.MQTT_TOPIC_PREFIX,
    maxMessageBytes: config.INGEST_MAX_MESSAGE_BYTES,
    rawCapBytes: config.REJECTION_RAW_CAP_BYTES,
    maxClockSkewMs: config.MAX_CLOCK_SKEW_S * 1000,
    checkParams: config.CHECK_PARAMS,
  };
}

function refuse(
  msg: Inbound,
  e: unknown,
  ctx: Partial<Omit<Refused, 'kind' | 'msg' | 'rejection'>> = {},
): Refused {
  return {
    kind: 'refused',
    msg,
    rejection: asRejection(e),
    deviceId: ctx.deviceId ?? null,
    kid: ctx.kid ?? null,
    seq: ctx.seq ?? null,
    authenticated: ctx.authenticated ?? false,
  };
}

export class IngestPipeline {
  private readonly keys = new Map<string, SignerKey>();
  private readonly now: () => number;
  private readonly attestations: AttestationScreen;

  constructor(
    private readonly pool: Pool,
    private readonly opts: PipelineOptions,
    /** Public keys by kid; the database by default, a list in unit tests. */
    private readonly lookupKeys: (kids: string[]) => Promise<KeyRecord[]> = (kids) =>
      findKeys(this.pool, kids),
    /** The geography the checks need; without it telemetry is stored unchecked (unit tests of screening). */
    private readonly geo?: GeoRuntime,
  ) {
    this.now = opts.now ?? Date.now;
    this.attestations = new AttestationScreen({
      topicPrefix: opts.topicPrefix,
      maxMessageBytes: opts.maxMessageBytes,
      maxClockSkewMs: opts.maxClockSkewMs,
      now: this.now,
      lookupKeys: (kids) => findSiteKeys(this.pool, kids),
    });
  }

  /** Every check that needs no transaction: envelope, key, signature (on the thread pool), payload, subject. */
  async screen(all: Inbound[]): Promise<Screened[]> {
    const isAttestation = (m: Inbound) => parseAttestationTopic(this.opts.topicPrefix, m.topic) !== undefined;
    if (all.some(isAttestation)) {
      const [att, tel] = [all.filter(isAttestation), all.filter((m) => !isAttestation(m))];
      const [a, t] = await Promise.all([this.attestations.screen(att), this.screen(tel)]);
      // Both stages answer in their input's order: merge back into the batch's order.
      let [ai, ti] = [0, 0];
      return all.map((m): Screened => (isAttestation(m) ? { kind: 'attestation', a: a[ai++]! } : t[ti++]!));
    }
    const batch = all;
    const envelopes = batch.map((msg) => this.envelope(msg));
    const kids = envelopes.flatMap((e) => ('jws' in e ? [e.jws.kid] : []));
    await this.loadKeys(kids);
    return Promise.all(envelopes.map((e) => ('jws' in e ? this.authenticate(e.msg, e.deviceId, e.jws) : e)));
  }

  private envelope(msg: Inbound): { msg: Inbound; deviceId: string; jws: ParsedJws } | Refused {
    const deviceId = parseTelemetryTopic(this.opts.topicPrefix, msg.topic) ?? null;
    try {
      if (msg.payload.length > this.opts.maxMessageBytes) {
        throw new Rejection(
          'PAYLOAD_TOO_LARGE',
          `${msg.payload.length} bytes, the limit is ${this.opts.maxMessageBytes}`,
        );
      }
      if (deviceId === null)
        throw new Rejection('MALFORMED', `not a telemetry topic: ${msg.topic.slice(0, 200)}`);
      return { msg, deviceId, jws: parseCompactJws(msg.payload, TELEMETRY_TYP) };
    } catch (e) {
      return refuse(msg, e, { deviceId });
    }
  }

  private async loadKeys(kids: string[]): Promise<void> {
    const missing = [...new Set(kids.filter((k) => !this.keys.has(k)))];
    if (missing.length === 0) return;
    for (const rec of await this.lookupKeys(missing)) {
      this.keys.set(rec.kid, { ownerId: rec.deviceId, alg: rec.alg, key: toKeyObject(rec.jwk) });
    }
  }

  private async authenticate(msg: Inbound, deviceId: string, jws: ParsedJws): Promise<Screened> {
    // The seq only matters for a refusal: parse it there, not for every accepted message.
    const ctx = () => ({ deviceId, kid: jws.kid, seq: peekSeq(jws.payload) ?? null });
    try {
      await checkSigner(jws, this.keys.get(jws.kid), { kind: 'device', id: deviceId });
    } catch (e) {
      return refuse(msg, e, ctx());
    }
    try {
      const payload = parseTelemetry(jws.payload, this.now(), this.opts.maxClockSkewMs);
      if (payload.deviceId !== deviceId) {
        throw new Rejection(
          'SUBJECT_MISMATCH',
          `payload deviceId "${payload.deviceId.slice(0, 128)}" is not the topic's device`,
        );
      }
      const payloadSha256 = createHash('sha256').update(jws.payload).digest();
      return { kind: 'verified', msg, deviceId, kid: jws.kid, jws, payload, payloadSha256 };
    } catch (e) {
      return refuse(msg, e, { ...ctx(), authenticated: true });
    }
  }

  /** One transaction: revocations, replay window, evidence, telemetry, rejections, device state. */
  async commit(screened: Screened[]): Promise<BatchOutcome> {
    return withTransaction(this.pool, async (c) => {
      const verified = screened.filter((s): s is Verified => s.kind === 'verified');
      const revokedAt = await keyRevocations(
        c,
        verified.map((v) => v.kid),
      );
      const live: Verified[] = [];
      const verdictOf = new Map<Screened, Verdict>();
      const rejections: RejectionRow[] = [];
      const reject = (s: Screened, r: Refused) => {
        rejections.push(this.rejectionRow(r));
        verdictOf.set(s, {
          kind: 'rejected',
          reason: r.rejection.code,
          detail: r.rejection.message,
          deviceId: r.deviceId,
          seq: r.seq,
          authenticated: r.authenticated,
        });
      };
      for (const s of screened) {
        if (s.kind === 'attestation') continue;
        if (s.kind === 'refused') {
          reject(s, s);
          continue;
        }
        const revoked = revokedAt.get(s.kid);
        if (revoked !== undefined && revoked !== null && revoked <= s.msg.receivedAt) {
          reject(
            s,
            refuse(
              s.msg,
              new Rejection(
                'KEY_REVOKED',
                `key "${s.kid}" was revoked at ${new Date(revoked).toISOString()}`,
              ),
              {
                deviceId: s.deviceId,
                kid: s.kid,
                seq: s.payload.seq,
              },
            ),
          );
        } else {
          live.push(s);
        }
      }

      // Devices with an authenticated refusal too: their acknowledgement is read from the same window.
      const authenticatedRefused = screened.flatMap((x) =>
        x.kind === 'refused' && x.authenticated && x.deviceId !== null ? [x.deviceId] : [],
      );
      const states = await lockDeviceStates(c, [...live.map((v) => v.deviceId), ...authenticatedRefused]);
      const windows = new Map<string, ReplayWindow>([...states].map(([id, st]) => [id, st.window]));
      const candidates = live.map((v) => ({
        deviceId: v.deviceId,
        seq: v.payload.seq,
        payloadSha256: v.payloadSha256,
      }));
      const hashes = await storedHashes(c, pairsToLookUp(windows, candidates));
      const decided = decideSeqs(windows, candidates, hashes);

      const messages: MessageRow[] = [];
      const telemetry: TelemetryRow[] = [];
      const lastFix = new Map<string, { ts: number; lat: number; lon: number }>();
      const accepted = new Map<string, number>();
      live.forEach((v, i) => {
        const decision = decided.decisions[i]!;
        const seq = v.payload.seq;
        if (decision === 'duplicate') {
          verdictOf.set(v, { kind: 'duplicate', deviceId: v.deviceId, seq });
          return;
        }
        if (decision !== 'accept') {
          const detail =
            decision === 'REPLAY'
              ? `seq ${seq} was already accepted with a different payload`
              : `seq ${seq} is below the replay window and was never accepted with this payload`;
          reject(
            v,
            refuse(v.msg, new Rejection(decision, detail), {
              deviceId: v.deviceId,
              kid: v.kid,
              seq,
              authenticated: true,
            }),
          );
          return;
        }
        messages.push({
          deviceId: v.deviceId,
          seq,
          payloadSha256: v.payloadSha256,
          kid: v.kid,
          topic: v.msg.topic,
          jws: v.msg.payload.toString('latin1'),
          recordCount: v.payload.records.length,
          receivedAt: v.msg.receivedAt,
        });
        v.payload.records.forEach((r, idx) => {
          telemetry.push({
            deviceId: v.deviceId,
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
          const prev = lastFix.get(v.deviceId);
          if (!prev || r.ts > prev.ts) lastFix.set(v.deviceId, { ts: r.ts, lat: r.lat, lon: r.lon });
        });
        accepted.set(v.deviceId, (accepted.get(v.deviceId) ?? 0) + 1);
        verdictOf.set(v, { kind: 'accepted', deviceId: v.deviceId, seq, records: v.payload.records.length });
      });

      const alerts = this.geo ? await this.check(c, telemetry) : [];
      const attested = await commitAttestations(
        c,
        screened.flatMap((s) => (s.kind === 'attestation' ? [s.a] : [])),
      );
      let ai = 0;
      for (const s of screened) {
        if (s.kind !== 'attestation') continue;
        const v = attested.verdicts[ai++]!;
        if (v.kind !== 'rejected') {
          verdictOf.set(s, {
            ...v,
            deviceId: null,
            ...(v.kind === 'accepted' ? { records: 0 } : {}),
          } as Verdict);
          continue;
        }
        const r = v.refused;
        rejections.push(this.rejectionRow({ ...r, deviceId: null }, r.siteId));
        verdictOf.set(s, {
          kind: 'rejected',
          reason: r.rejection.code,
          detail: r.rejection.message,
          deviceId: null,
          siteId: r.siteId,
          seq: r.seq,
          authenticated: r.authenticated,
        });
      }
      alerts.push(...attested.alerts);
      await insertMessages(c, messages);
      await insertTelemetry(c, telemetry);
      await insertRejections(c, rejections);
      alerts.push(...(await this.alertBadMessages(c, rejections)));
      await updateDeviceStates(
        c,
        [...decided.windows].map(([deviceId, window]) => ({
          deviceId,
          window,
          lastFix: lastFix.get(deviceId) ?? null,
          messages: accepted.get(deviceId) ?? 0,
        })),
      );

      const verdicts = screened.map((s) => verdictOf.get(s)!);
      return { verdicts, acks: acksFor(verdicts, decided.windows), siteAcks: attested.acks, alerts };
    });
  }

  /** Runs the shipment checks over the batch's new fixes and marks each row with its shipment and flags. */
  private async check(c: PoolClient, telemetry: TelemetryRow[]): Promise<AlertChange[]> {
    const byDevice = new Map<string, TelemetryRow[]>();
    for (const row of telemetry) {
      const rows = byDevice.get(row.deviceId);
      if (rows) rows.push(row);
      else byDevice.set(row.deviceId, [row]);
    }
    const stage = await runCheckStage(
      c,
      this.geo!,
      [...byDevice].map(([deviceId, rows]) => ({ deviceId, fixes: rows.map(toFix) })),
      this.opts.checkParams,
    );
    for (const [deviceId, rows] of byDevice) {
      const shipmentId = stage.shipmentOf.get(deviceId) ?? null;
      const flags = stage.flags.get(deviceId);
      rows.forEach((row, i) => {
        row.shipmentId = shipmentId;
        row.flags = flags?.get(i) ?? [];
      });
    }
    return stage.alerts;
  }

  /** SIGNATURE_INVALID, UNKNOWN_KEY and REPLAY on the topic of a registered device or site become alerts. */
  private async alertBadMessages(c: PoolClient, rejections: RejectionRow[]): Promise<AlertChange[]> {
    const bad = rejections.filter((r) => BAD_MESSAGE_ALERTS.has(r.reason));
    if (bad.length === 0) return [];
    const devices = [...new Set(bad.flatMap((r) => (r.deviceId ? [r.deviceId] : [])))];
    const sites = [...new Set(bad.flatMap((r) => (r.siteId ? [r.siteId] : [])))];
    const known = await c.query(
      `SELECT 'device' AS kind, d.id, s.id AS shipment_id FROM devices d
         LEFT JOIN shipments s ON s.device_id = d.id AND s.status IN ('planned', 'in_transit')
        WHERE d.id = ANY($1::text[])
       UNION ALL SELECT 'site', id, NULL FROM sites WHERE id = ANY($2::text[])`,
      [devices, sites],
    );
    const rows = known.rows as { kind: string; id: string; shipment_id: string | null }[];
    const events = badMessageEvents(
      bad,
      new Set(rows.filter((r) => r.kind === 'device').map((r) => r.id)),
      new Set(rows.filter((r) => r.kind === 'site').map((r) => r.id)),
      new Map(rows.flatMap((r) => (r.shipment_id ? [[r.id, r.shipment_id] as const] : []))),
    );
    return applyAlertEvents(c, events);
  }

  private rejectionRow(r: Omit<Refused, 'kind'>, siteId: string | null = null): RejectionRow {
    return {
      receivedAt: r.msg.receivedAt,
      topic: r.msg.topic.slice(0, 1024),
      deviceId: r.deviceId,
      siteId,
      kid: r.kid?.slice(0, 256) ?? null,
      seq: r.seq,
      reason: r.rejection.code,
      detail: r.rejection.message.slice(0, 2000),
      authenticated: r.authenticated,
      raw: r.msg.payload.subarray(0, this.opts.rawCapBytes),
      rawSize: r.msg.payload.length,
    };
  }

  /** A message that cannot be stored with its batch (a bug or data the database refuses) is stored as refused. */
  async commitAsInternalError(msg: Inbound, cause: unknown): Promise<BatchOutcome> {
    const r = refuse(
      msg,
      new Rejection('INTERNAL_ERROR', `could not be stored: ${(cause as Error)?.message ?? String(cause)}`),
      {
        deviceId: parseTelemetryTopic(this.opts.topicPrefix, msg.topic) ?? null,
      },
    );
    const siteId = parseAttestationTopic(this.opts.topicPrefix, msg.topic) ?? null;
    await withTransaction(this.pool, (c) => insertRejections(c, [this.rejectionRow(r, siteId)]));
    return {
      verdicts: [
        {
          kind: 'rejected',
          reason: 'INTERNAL_ERROR',
          detail: r.rejection.message,
          deviceId: r.deviceId,
          siteId,
          seq: null,
          authenticated: false,
        },
      ],
      acks: new Map(),
      siteAcks: new Map(),
      alerts: [],
    };
  }
}

function toFix(r: TelemetryRow): Fix {
  const fix: Fix = { ts: r.ts, lat: r.lat, lon: r.lon };
  if (r.speedKmh !== null) fix.speedKmh = r.speedKmh;
  if (r.headingDeg !== null) fix.headingDeg = r.headingDeg;
  if (r.hdop !== null) fix.hdop = r.hdop;
  if (r.satellites !== null) fix.satellites = r.satellites;
  if (r.lightLux !== null) fix.lightLux = r.lightLux;
  if (r.tamper !== null) fix.tamper = r.tamper;
  return fix;
}

/**
 * What to acknowledge per device: its highest committed seq, for every device that sent an authenticated message
 * in the batch (accepted, duplicate, or finally refused). An ack N tells the tracker that everything up to N is
 * done, so a refused seq above the highest (a schema error in seq 100 while 17..99 may still be on their way) is
 * acknowledged only once a later message is committed. Unauthenticated refusals are never acknowledged: anyone may
 * publish on a device's topic, and an ack makes the real tracker delete its buffer.
 */
export function acksFor(
  verdicts: Verdict[],
  windows: ReadonlyMap<string, ReplayWindow>,
): Map<string, number> {
  const acks = new Map<string, number>();
  for (const v of verdicts) {
    if (v.kind === 'rejected' && !(v.authenticated && v.deviceId !== null)) continue;
    const w = v.deviceId === null ? undefined : windows.get(v.deviceId);
    if (w && w.highest >= 0) acks.set(v.deviceId!, w.highest);
  }
  return acks;
}
