// The embedded broker's door: aedes' authenticate / authorizePublish / authorizeSubscribe / authorizeForward hooks
// applying src/broker/acl.ts, the live connections of each sender (to close them when its password is rotated or
// it is revoked), and the sweep that picks up rotations and revocations made by other processes. Credentials come
// from the database (src/db/mqtt-credentials.ts); chipwatch's own service user from its configuration.
import { timingSafeEqual } from 'node:crypto';
import type { MqttCredentialRow } from '../db/mqtt-credentials.ts';
import type { SenderKind } from '../domain/messages.ts';
import type { Logger } from '../log.ts';
import { keepsRetain, mayPublish, maySubscribe, mayUseClientId, type Principal } from './acl.ts';
import { passwordDigest, sameDigest, verifyPassword } from './password.ts';

/** Where the broker reads credentials: the database in chipwatch (dbCredentialSource in src/embedded/broker.ts). */
export interface CredentialSource {
  lookup(username: string): Promise<MqttCredentialRow[]>;
  changes(since: Date | undefined): Promise<{ now: Date; rows: MqttCredentialRow[] }>;
}

/** What of an aedes client the gate uses. */
export interface GateClient {
  id: string;
  close(): void;
}

interface Session {
  principal: Principal;
  generation: number;
}

/** CONNACK return codes of MQTT 3.1.1. */
const REFUSED = { identifier: 2, unavailable: 3, badCredentials: 4, notAuthorized: 5 } as const;

const refusal = (code: number, message: string) => Object.assign(new Error(message), { returnCode: code });
const key = (kind: SenderKind, id: string) => `${kind}:${id}`;

/** How far back each sweep looks again, so a revocation committed while the last sweep ran is not missed. */
const SWEEP_OVERLAP_MS = 30_000;
/** Verified passwords remembered (digest per sender and generation), so reconnects skip scrypt. */
const MAX_REMEMBERED = 100_000;

export class BrokerGate {
  private readonly sessions = new WeakMap<object, Session>();
  private readonly live = new Map<string, Set<GateClient>>();
  private readonly remembered = new Map<string, { generation: number; digest: Buffer }>();
  private readonly serviceDigest: Buffer;
  private since: Date | undefined;

  constructor(
    private readonly o: {
      prefix: string;
      service: { username: string; password: string };
      source: CredentialSource | undefined;
      log?: Logger;
    },
  ) {
    this.serviceDigest = passwordDigest(o.service.password);
  }

  /** aedes `authenticate`: chipwatch's service user, else a tracker or site with its current password. */
  authenticate = (
    client: GateClient,
    username: string | undefined,
    password: Buffer | undefined,
    done: (err: Error | null, ok?: boolean) => void,
  ): void => {
    this.principalFor(username, password)
      .then((s) => {
        if (!s) return done(refusal(REFUSED.badCredentials, 'bad user name or password'));
        if (!mayUseClientId(s.principal, client.id))
          return done(refusal(REFUSED.identifier, `client id must be the user name (${username})`));
        this.sessions.set(client, s);
        if (s.principal.kind !== 'service') {
          const k = key(s.principal.kind, s.principal.id);
          const set = this.live.get(k) ?? new Set<GateClient>();
          this.live.set(k, set);
          set.add(client);
        }
        done(null, true);
      })
      .catch((err) => {
        this.o.log?.warn({ err: (err as Error).message }, 'MQTT credentials unreadable; connect refused');
        done(refusal(REFUSED.unavailable, 'server unavailable'));
      });
  };

  /** aedes `authorizePublish`: own telemetry (or attestations) only; the retain flag dropped on chipwatch topics. */
  authorizePublish = (
    client: GateClient | null,
    packet: { topic: string; retain: boolean },
    done: (err?: Error | null) => void,
  ): void => {
    const s = client ? this.sessions.get(client) : undefined;
    if (!s || !mayPublish(s.principal, this.o.prefix, packet.topic)) {
      done(new Error(`not authorized to publish to ${packet.topic}`));
      return;
    }
    if (packet.retain && !keepsRetain(this.o.prefix, packet.topic)) packet.retain = false;
    done(null);
  };

  /** aedes `authorizeSubscribe`: a refused filter gets SUBACK 0x80, the connection stays. */
  authorizeSubscribe = (
    client: GateClient,
    sub: { topic: string; qos: number },
    done: (err: Error | null, sub?: { topic: string; qos: number } | null) => void,
  ): void => {
    const s = this.sessions.get(client);
    done(null, s && maySubscribe(s.principal, this.o.prefix, sub.topic) ? sub : null);
  };

  /** aedes `authorizeForward`: the subscribe rule again at delivery, and never a retained copy of a chipwatch topic. */
  authorizeForward = <P extends { topic: string; retain?: boolean }>(
    client: GateClient,
    packet: P,
  ): P | null => {
    const s = this.sessions.get(client);
    if (!s || !maySubscribe(s.principal, this.o.prefix, packet.topic)) return null;
    if (packet.retain && !keepsRetain(this.o.prefix, packet.topic)) return null;
    return packet;
  };

  /** Who an authenticated client is (undefined before authentication). */
  principalOf(client: object): Principal | undefined {
    return this.sessions.get(client)?.principal;
  }

  /** To call on aedes' `clientDisconnect`. */
  forget(client: GateClient): void {
    const s = this.sessions.get(client);
    if (s && s.principal.kind !== 'service') {
      const k = key(s.principal.kind, s.principal.id);
      this.live.get(k)?.delete(client);
      if (this.live.get(k)?.size === 0) this.live.delete(k);
    }
  }

  /** Closes the sender's connections made with a credential older than `generation` (all when undefined). */
  end(kind: SenderKind, id: string, generation?: number): number {
    const k = key(kind, id);
    this.remembered.delete(k);
    let closed = 0;
    for (const c of [...(this.live.get(k) ?? [])]) {
      const s = this.sessions.get(c);
      if (generation !== undefined && s && s.generation >= generation) continue;
      this.forget(c);
      c.close();
      closed++;
    }
    return closed;
  }

  /** Picks up rotations and revocations committed anywhere since the last sweep; closes what they end. */
  async sweep(): Promise<number> {
    if (!this.o.source) return 0;
    const since = this.since && new Date(this.since.getTime() - SWEEP_OVERLAP_MS);
    const { now, rows } = await this.o.source.changes(since);
    this.since = now;
    let closed = 0;
    for (const r of rows) {
      if (!this.live.has(key(r.kind, r.id))) continue;
      closed += this.end(r.kind, r.id, r.revoked ? undefined : r.generation);
    }
    if (closed > 0) this.o.log?.info({ closed }, 'MQTT connections ended by rotation or revocation');
    return closed;
  }

  /** Connections per sender kind now (service connections are not tracked). */
  liveCount(): number {
    let n = 0;
    for (const set of this.live.values()) n += set.size;
    return n;
  }

  private async principalFor(
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Session | undefined> {
    if (!username || !password || password.length === 0 || password.length > 1024) return undefined;
    const digest = passwordDigest(password);
    if (username === this.o.service.username && sameDigest(digest, this.serviceDigest))
      return { principal: { kind: 'service' }, generation: 0 };
    if (!this.o.source) return undefined;
    const text = password.toString('utf8');
    for (const row of await this.o.source.lookup(username)) {
      if (row.revoked) continue;
      const k = key(row.kind, row.id);
      const known = this.remembered.get(k);
      const ok =
        known && known.generation === row.generation
          ? timingSafeEqual(known.digest, digest)
          : await verifyPassword(text, row.passwordHash);
      if (!ok) continue;
      if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
      this.remembered.set(k, { generation: row.generation, digest });
      return { principal: { kind: row.kind, id: row.id }, generation: row.generation };
    }
    return undefined;
  }
}
