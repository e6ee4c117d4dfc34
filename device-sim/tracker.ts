// A reliable tracker: keeps every signed message until chipwatch acks its seq, and resends what stays unacked.

import mqtt, { type MqttClient } from 'mqtt';
import { type AckPayload, ackCovers, verifyAck } from '../src/verify/ack.ts';
import { senderAuth } from './connect.ts';
import type { DeviceKey } from './keys.ts';
import {
  ATTESTATION_TYP,
  buildTelemetry,
  type SigningKey,
  signCompactJws,
  type TelemetryRecord,
} from './signer.ts';

/** What a site's attestation says besides its envelope (v, siteId, seq, sentAt). */
export interface AttestationBody {
  location: { lat: number; lon: number };
  chips: string[];
  landmarks: { landmarkId: string; rttMs: number }[];
}

/** Messages kept after their ack, so an attack scenario can replay a real capture. */
const RECENT_KEPT = 100;

/** An Ed25519 public JWK: chipwatch's ack key. */
export type AckPublicJwk = { kty: 'OKP'; crv: 'Ed25519'; x: string };

export interface TrackerOptions {
  /** The device id, or the site id when `subject` is 'sites'. */
  deviceId: string;
  /** A tracker publishes telemetry under devices/; a data center attestations under sites/. */
  subject?: 'devices' | 'sites';
  key: SigningKey | DeviceKey;
  mqttUrl: string;
  topicPrefix?: string;
  resendAfterMs?: number;
  /** A real tracker persists its seq across reboots; pass the next unused one. */
  firstSeq?: number;
  clientId?: string;
  /** The MQTT password from the registration answer; user name and client id are then the id (device-sim/connect.ts). */
  mqttPassword?: string;
  /**
   * chipwatch's ack-signing public key (GET /v1/ingest/key, or the registration answer's `ackKey.publicJwk`),
   * pinned: an ack that does not verify against it deletes nothing.
   */
  ackKey: AckPublicJwk;
}

export interface PendingMessage {
  jws: string;
  firstSentAt: number;
  lastSentAt: number;
  attempts: number;
  /** The broker PUBACKed the latest copy, so mqtt.js will not resend it after a reconnect: we must. */
  brokerAcked: boolean;
}

export interface TrackerStats {
  /** First publishes. */
  sent: number;
  resent: number;
  acked: number;
  /** First publish → application ack, one per acked message. */
  latenciesMs: number[];
  /** Acks ignored because they did not verify against the pinned ack key (forged, unsigned, another sender's). */
  unverifiedAcks: number;
}

export class Tracker {
  readonly deviceId: string;
  readonly telemetryTopic: string;
  readonly ackTopic: string;
  readonly stats: TrackerStats = { sent: 0, resent: 0, acked: 0, latenciesMs: [], unverifiedAcks: 0 };
  /** The latest signed messages sent (seq, compact JWS), newest last. */
  readonly recent: { seq: number; jws: string }[] = [];
  /** The last 100 acks that verified, oldest first. */
  readonly acks: AckPayload[] = [];
  private readonly pending = new Map<number, PendingMessage>();
  private readonly subject: 'devices' | 'sites';
  private readonly key: SigningKey;
  private readonly ackKey: AckPublicJwk;
  private readonly prefix: string;
  private readonly resendAfterMs: number;
  private readonly client: MqttClient;
  private readonly mqttUrl: string;
  private readonly resendTimer: NodeJS.Timeout;
  private nextSeqValue: number;
  private everSubscribed = false;
  private readyWaiters: Array<() => void> = [];
  private drainWaiters: Array<() => void> = [];
  private lastError: Error | undefined;
  private closed = false;
  private highestAcked = 0;

  constructor(opts: TrackerOptions) {
    this.deviceId = opts.deviceId;
    this.key = opts.key;
    this.ackKey = opts.ackKey;
    this.prefix = opts.topicPrefix ?? 'chipwatch/v1';
    this.resendAfterMs = opts.resendAfterMs ?? 5000;
    this.nextSeqValue = opts.firstSeq ?? 1;
    this.mqttUrl = opts.mqttUrl;
    this.subject = opts.subject ?? 'devices';
    this.telemetryTopic = `${this.prefix}/${this.subject}/${this.deviceId}/${this.subject === 'sites' ? 'attestations' : 'telemetry'}`;
    this.ackTopic = `${this.prefix}/${this.subject}/${this.deviceId}/ack`;

    // Persistent session with a fixed id: the broker queues our acks while we are away.
    this.client = mqtt.connect(opts.mqttUrl, {
      protocolVersion: 4,
      clean: false,
      clientId: opts.clientId ?? `sim-${this.deviceId}`,
      ...senderAuth(this.deviceId, opts.mqttPassword),
      reconnectPeriod: 500,
      connectTimeout: 5000,
      resubscribe: false,
    });
    this.client.on('connect', () => this.onConnect());
    this.client.on('message', (topic, payload) => {
      if (topic === this.ackTopic) this.onAck(payload);
    });
    // Without a listener an 'error' event would crash the process; mqtt.js reconnects on its own.
    this.client.on('error', (err) => {
      this.lastError = err;
    });
    this.resendTimer = setInterval(
      () => this.resendOverdue(),
      Math.max(50, Math.min(1000, this.resendAfterMs / 4)),
    );
    this.resendTimer.unref();
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** The seq the next `send` will use. */
  get nextSeq(): number {
    return this.nextSeqValue;
  }

  /** Resolves once connected and subscribed to acks; rejects with what to check after `timeoutMs`. */
  waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this.everSubscribed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const why = this.lastError ? ` (${this.lastError.message})` : '';
        reject(
          new Error(
            `no MQTT connection for ${this.deviceId} within ${timeoutMs} ms${why}: is the MQTT broker at ${this.mqttUrl} running?`,
          ),
        );
      }, timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Signs the records with the next seq, keeps the message until acked, publishes it; returns the seq. */
  send(records: TelemetryRecord[], sentAt: number = Date.now()): number {
    const seq = this.nextSeqValue++;
    return this.enqueue(seq, signCompactJws(buildTelemetry(this.deviceId, seq, records, sentAt), this.key));
  }

  /** A data center's signed attestation (subject 'sites'), kept until acked like telemetry; returns the seq. */
  sendAttestation(body: AttestationBody, sentAt: number = Date.now()): number {
    const seq = this.nextSeqValue++;
    const payload = { v: 1, siteId: this.deviceId, seq, sentAt, ...body };
    return this.enqueue(seq, signCompactJws(payload, this.key, ATTESTATION_TYP));
  }

  /** Highest seq acknowledged so far (0 before any ack). */
  get ackedSeq(): number {
    return this.highestAcked;
  }

  private enqueue(seq: number, jws: string): number {
    this.recent.push({ seq, jws });
    if (this.recent.length > RECENT_KEPT) this.recent.shift();
    const now = Date.now();
    const entry: PendingMessage = { jws, firstSentAt: now, lastSentAt: now, attempts: 1, brokerAcked: false };
    this.pending.set(seq, entry);
    this.stats.sent++;
    this.publish(entry);
    return seq;
  }

  /**
   * Publishes any payload, untracked: for attack tests. A bare suffix ("telemetry") goes under this device's
   * topic; anything with a slash is used as the whole topic.
   */
  sendRaw(topicSuffixOrTopic: string, payload: string | Buffer, qos: 0 | 1 = 1): Promise<void> {
    const topic = topicSuffixOrTopic.includes('/')
      ? topicSuffixOrTopic
      : `${this.prefix}/${this.subject}/${this.deviceId}/${topicSuffixOrTopic}`;
    return this.client.publishAsync(topic, payload, { qos }).then(() => undefined);
  }

  /** Resolves true once nothing is pending, false if `timeoutMs` passes first. */
  waitAllAcked(timeoutMs: number): Promise<boolean> {
    if (this.pending.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.drainWaiters.push(waiter);
    });
  }

  /** Stops resending and disconnects; unacked messages are dropped (a real tracker would keep them on flash). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.resendTimer);
    const graceful = this.client.connected;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), 2000);
    });
    // A graceful end waits for in-flight PUBACKs, which never come from a broker that stopped answering.
    const result = await Promise.race([this.client.endAsync(!graceful).catch(() => undefined), gaveUp]);
    clearTimeout(timer);
    if (result === 'timeout') this.client.stream?.destroy();
  }

  private publish(entry: PendingMessage): void {
    entry.brokerAcked = false;
    const attempt = entry.attempts;
    this.client.publish(this.telemetryTopic, entry.jws, { qos: 1 }, (err) => {
      // Only the latest copy's PUBACK says whether mqtt.js still holds one to resend.
      if (!err && entry.attempts === attempt) entry.brokerAcked = true;
    });
  }

  private onConnect(): void {
    if (this.closed) return;
    // Nagle's algorithm meeting delayed ACKs adds ~40 ms to a lone small publish; trackers report one at a time.
    (this.client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    const reconnect = this.everSubscribed;
    this.client.subscribe(this.ackTopic, { qos: 1 }, (err) => {
      if (err) {
        this.lastError = err;
        return;
      }
      this.everSubscribed = true;
      for (const w of this.readyWaiters.splice(0)) w();
    });
    // The broker PUBACKed these, but a restarted broker (or an embedded one that died with chipwatch) may have
    // lost them before chipwatch committed; the replay window makes the duplicate harmless.
    if (reconnect) {
      for (const entry of this.pending.values()) if (entry.brokerAcked) this.resend(entry, Date.now());
    }
  }

  private onAck(payload: Buffer): void {
    // Only an ack signed by the pinned key, for this very sender, may make us delete anything: anyone on the
    // broker could publish a forged one.
    const ack = verifyAck(payload, this.ackKey, this.subject === 'sites' ? 'site' : 'device', this.deviceId);
    if (!ack) {
      this.stats.unverifiedAcks++;
      return;
    }
    if (this.acks.length >= 100) this.acks.shift();
    this.acks.push(ack);
    if (ack.seq > this.highestAcked) this.highestAcked = ack.seq;
    const now = Date.now();
    // An ack covers every seq up to `seq` and each in `sack`: one lost ack costs nothing, a gap keeps its message.
    for (const [s, entry] of this.pending) {
      if (!ackCovers(ack, s)) continue;
      this.pending.delete(s);
      this.stats.acked++;
      this.stats.latenciesMs.push(now - entry.firstSentAt);
    }
    if (this.pending.size === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  private resendOverdue(): void {
    // Offline, mqtt.js would just queue copies in memory; the reconnect handler catches up instead.
    if (!this.client.connected) return;
    const now = Date.now();
    for (const entry of this.pending.values()) {
      if (now - entry.lastSentAt >= resendDelayMs(this.resendAfterMs, entry.attempts))
        this.resend(entry, now);
    }
  }

  private resend(entry: PendingMessage, now: number): void {
    entry.lastSentAt = now;
    entry.attempts++;
    this.stats.resent++;
    this.publish(entry);
  }
}

/** Most a message waits between copies: a backlog resent while chipwatch is behind must not bury it further. */
const MAX_RESEND_DELAY_MS = 60_000;

/**
 * How long after its latest copy a message is sent again: `base`, doubling with every copy up to a minute, with
 * ±20 % jitter so a fleet that lost its broker at the same moment does not resend in lockstep.
 */
export function resendDelayMs(baseMs: number, attempts: number, random: () => number = Math.random): number {
  const nominal = Math.min(MAX_RESEND_DELAY_MS, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(nominal * (0.8 + 0.4 * random()));
}
