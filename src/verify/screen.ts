// One screening for tracker and site messages, parametrised by sender kind: size, envelope (JWS header rules), key
// (registered, of the sender the topic names, pinned to its algorithm), signature (on the thread pool), payload
// schema and subject binding. Pure but for the key lookup, which the caller passes in; every failure becomes a
// Refused carrying its Rejection, so a batch is screened whole and never throws.

import { hash } from 'node:crypto';
import { asRejection, Rejection } from '../domain/errors.ts';
import type { Inbound, SenderKind } from '../domain/messages.ts';
import { type AttestationPayload, parseAttestation } from './attestation-schema.ts';
import { ATTESTATION_TYP, type ParsedJws, parseCompactJws, TELEMETRY_TYP } from './jws.ts';
import { type PublicJwk, type SigningAlg, toKeyObject } from './keys.ts';
import { checkSigner, type SignerKey } from './signer.ts';
import { parseTelemetry, peekSeq, type TelemetryPayload } from './telemetry-schema.ts';

/** A message and the sender its topic names (null: the topic names none, or not validly). */
export interface Envelope {
  msg: Inbound;
  sender: SenderKind;
  senderId: string | null;
}

/** A registered public key and the device or site it belongs to. */
export interface KeyRecord {
  kid: string;
  ownerId: string;
  alg: SigningAlg;
  jwk: PublicJwk;
}

interface VerifiedBase {
  kind: 'verified';
  msg: Inbound;
  senderId: string;
  kid: string;
  payloadSha256: Buffer;
}
export interface VerifiedTelemetry extends VerifiedBase {
  sender: 'device';
  payload: TelemetryPayload;
}
export interface VerifiedAttestation extends VerifiedBase {
  sender: 'site';
  payload: AttestationPayload;
}
export type Verified = VerifiedTelemetry | VerifiedAttestation;

export interface Refused {
  kind: 'refused';
  sender: SenderKind;
  msg: Inbound;
  rejection: Rejection;
  senderId: string | null;
  kid: string | null;
  seq: number | null;
  /** The signature verified with a valid key: the seq is the sender's own, so it may be acknowledged. */
  authenticated: boolean;
}

export type Screened = Verified | Refused;

export interface ScreenOptions {
  maxMessageBytes: number;
  maxClockSkewMs: number;
  now: () => number;
  /** Public keys of one sender kind by kid: the database in production, a list in unit tests. */
  lookupKeys: (sender: SenderKind, kids: string[]) => Promise<KeyRecord[]>;
}

/** What differs between the two kinds: the JWS `typ`, the payload schema, and the words of a refusal. */
const KINDS = {
  device: { typ: TELEMETRY_TYP, topic: 'telemetry', subject: 'deviceId', parse: parseTelemetry },
  site: { typ: ATTESTATION_TYP, topic: 'attestation', subject: 'siteId', parse: parseAttestation },
} as const;

export function refuse(
  env: { msg: Inbound; sender: SenderKind },
  e: unknown,
  ctx: { senderId?: string | null; kid?: string | null; seq?: number | null; authenticated?: boolean } = {},
): Refused {
  return {
    kind: 'refused',
    sender: env.sender,
    msg: env.msg,
    rejection: asRejection(e),
    senderId: ctx.senderId ?? null,
    kid: ctx.kid ?? null,
    seq: ctx.seq ?? null,
    authenticated: ctx.authenticated ?? false,
  };
}

export class Screener {
  /** Keys already looked up, per sender kind (a device kid never names a site key). */
  private readonly keys: Record<SenderKind, Map<string, SignerKey>> = { device: new Map(), site: new Map() };

  constructor(private readonly opts: ScreenOptions) {}

  /** Screens a batch; answers in its order. */
  async screen(batch: Envelope[]): Promise<Screened[]> {
    const parsed = batch.map((env) => this.envelope(env));
    const kids: Record<SenderKind, string[]> = { device: [], site: [] };
    for (const p of parsed) if ('jws' in p) kids[p.env.sender].push(p.jws.kid);
    await Promise.all([this.loadKeys('device', kids.device), this.loadKeys('site', kids.site)]);
    return Promise.all(parsed.map((p) => ('jws' in p ? this.authenticate(p.env, p.senderId, p.jws) : p)));
  }

  private envelope(env: Envelope): { env: Envelope; senderId: string; jws: ParsedJws } | Refused {
    const { msg, sender, senderId } = env;
    try {
      if (msg.payload.length > this.opts.maxMessageBytes) {
        throw new Rejection(
          'PAYLOAD_TOO_LARGE',
          `${msg.payload.length} bytes, the limit is ${this.opts.maxMessageBytes}`,
        );
      }
      if (senderId === null) {
        throw new Rejection(
          'MALFORMED',
          `not a${sender === 'site' ? 'n' : ''} ${KINDS[sender].topic} topic: ${msg.topic.slice(0, 200)}`,
        );
      }
      return { env, senderId, jws: parseCompactJws(msg.payload, KINDS[sender].typ) };
    } catch (e) {
      return refuse(env, e, { senderId });
    }
  }

  private async loadKeys(sender: SenderKind, kids: string[]): Promise<void> {
    const known = this.keys[sender];
    const missing = [...new Set(kids.filter((k) => !known.has(k)))];
    if (missing.length === 0) return;
    for (const rec of await this.opts.lookupKeys(sender, missing)) {
      known.set(rec.kid, { ownerId: rec.ownerId, alg: rec.alg, key: toKeyObject(rec.jwk) });
    }
  }

  private async authenticate(env: Envelope, senderId: string, jws: ParsedJws): Promise<Screened> {
    const { sender, msg } = env;
    try {
      await checkSigner(jws, this.keys[sender].get(jws.kid), { kind: sender, id: senderId });
    } catch (e) {
      return refuse(env, e, refusalContext(senderId, jws, false));
    }
    try {
      const kind = KINDS[sender];
      const payload = kind.parse(jws.payload, this.opts.now(), this.opts.maxClockSkewMs);
      const claimed =
        sender === 'device' ? (payload as TelemetryPayload).deviceId : (payload as AttestationPayload).siteId;
      if (claimed !== senderId) {
        throw new Rejection(
          'SUBJECT_MISMATCH',
          `payload ${kind.subject} "${claimed.slice(0, 128)}" is not the topic's ${sender}`,
        );
      }
      const verified = {
        kind: 'verified',
        msg,
        senderId,
        kid: jws.kid,
        payloadSha256: hash('sha256', jws.payload, 'buffer'),
        sender,
        payload,
      };
      return verified as Verified;
    } catch (e) {
      return refuse(env, e, refusalContext(senderId, jws, true));
    }
  }
}

/** What a refusal of a parsed message records; its seq is parsed only here, never for an accepted message. */
function refusalContext(senderId: string, jws: ParsedJws, authenticated: boolean) {
  return { senderId, kid: jws.kid, seq: peekSeq(jws.payload) ?? null, authenticated };
}
