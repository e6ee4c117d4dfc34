// What several ingest workers must not break, checked two ways. By SQL: every message sent in a phase is stored
// once (none lost, none twice, every record), and per device the stored rows follow seq order — in the order they
// were received (received_at) and in the order their transactions started (xmin; a batch's rows share one). On the
// wire: an observer subscribed to every device's ack topic (a dynsec client the bench creates) verifies each signed
// ack and counts acks whose cumulative seq is below one the same device was acked before — what a tracker would see.
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import pg from 'pg';
import type { AckPublicJwk } from '../device-sim/tracker.ts';
import { DynsecAccess } from '../src/broker/dynsec.ts';
import { verifyAck } from '../src/verify/ack.ts';

export interface PhaseSent {
  /** Per device, the seqs this phase sent: lo..hi, each once. */
  ranges: Map<string, { lo: number; hi: number }>;
  recordsPerMessage: number;
}

export interface StoredCheck {
  sent: number;
  stored: number;
  lost: number;
  storedTwice: number;
  recordsExpected: number;
  records: number;
  recordsTwice: number;
  /** Rows refused for these devices during the phase (the rejections table). */
  refused: number;
  /** Consecutive seqs of a device where the later one was received earlier (received_at). */
  receivedOutOfOrder: number;
  /** Consecutive seqs of a device where the later one is in an older transaction (xmin). */
  committedOutOfOrder: number;
  /** Devices whose ack floor (device_state) is not their last seq sent. */
  floorsBehind: number;
}

const SENT_CTE = `WITH sent AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS s(device_id, lo, hi))`;

export async function checkStored(databaseUrl: string, phase: PhaseSent, since: Date): Promise<StoredCheck> {
  const ids = [...phase.ranges.keys()];
  const args = [ids, ids.map((d) => phase.ranges.get(d)!.lo), ids.map((d) => phase.ranges.get(d)!.hi)];
  const db = new pg.Client(databaseUrl);
  await db.connect();
  try {
    const counts = await db.query(
      `${SENT_CTE}
       SELECT (SELECT sum(hi - lo + 1) FROM sent) AS sent,
              (SELECT count(*) FROM messages m JOIN sent s ON m.device_id = s.device_id AND m.seq BETWEEN s.lo AND s.hi) AS stored,
              (SELECT count(*) FROM (SELECT DISTINCT m.device_id, m.seq FROM messages m
                 JOIN sent s ON m.device_id = s.device_id AND m.seq BETWEEN s.lo AND s.hi) x) AS distinct_msgs,
              (SELECT count(*) FROM telemetry t JOIN sent s ON t.device_id = s.device_id AND t.seq BETWEEN s.lo AND s.hi) AS records,
              (SELECT count(*) FROM (SELECT DISTINCT t.device_id, t.seq, t.idx FROM telemetry t
                 JOIN sent s ON t.device_id = s.device_id AND t.seq BETWEEN s.lo AND s.hi) x) AS distinct_records,
              (SELECT count(*) FROM rejections r JOIN sent s ON r.device_id = s.device_id WHERE r.received_at >= $4) AS refused,
              (SELECT count(*) FROM device_state d JOIN sent s ON d.device_id = s.device_id WHERE d.ack_floor IS DISTINCT FROM s.hi) AS behind`,
      [...args, since],
    );
    const order = await db.query(
      `${SENT_CTE}
       SELECT count(*) FILTER (WHERE received_at < prev_received) AS received,
              count(*) FILTER (WHERE xid < prev_xid) AS committed
         FROM (SELECT m.received_at, m.xmin::text::bigint AS xid,
                      lag(m.received_at) OVER w AS prev_received, lag(m.xmin::text::bigint) OVER w AS prev_xid
                 FROM messages m JOIN sent s ON m.device_id = s.device_id AND m.seq BETWEEN s.lo AND s.hi
               WINDOW w AS (PARTITION BY m.device_id ORDER BY m.seq)) x`,
      args,
    );
    const c = counts.rows[0] as Record<string, string>;
    const o = order.rows[0] as Record<string, string>;
    const sent = Number(c.sent);
    const distinct = Number(c.distinct_msgs);
    return {
      sent,
      stored: Number(c.stored),
      lost: sent - distinct,
      storedTwice: Number(c.stored) - distinct,
      recordsExpected: sent * phase.recordsPerMessage,
      records: Number(c.records),
      recordsTwice: Number(c.records) - Number(c.distinct_records),
      refused: Number(c.refused),
      receivedOutOfOrder: Number(o.received),
      committedOutOfOrder: Number(o.committed),
      floorsBehind: Number(c.behind),
    };
  } finally {
    await db.end();
  }
}

export interface AckObserver {
  /** Verified acks seen, acks that did not verify, and acks whose seq went below the device's previous one. */
  counts(): { acks: number; unverified: number; backwards: number };
  reset(): void;
  stop(): Promise<void>;
}

/**
 * Creates a dynsec client allowed to read `{prefix}/devices/+/ack` and subscribes with it. Needs the dynsec admin;
 * the client and its role are deleted again by stop().
 */
export async function observeAcks(o: {
  mqttUrl: string;
  admin: { username: string; password: string };
  topicPrefix: string;
  ackKey: AckPublicJwk;
}): Promise<AckObserver> {
  const username = `bench-ack-observer-${randomBytes(3).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const topic = `${o.topicPrefix}/devices/+/ack`;
  const access = await DynsecAccess.connect({ url: o.mqttUrl, ...o.admin, topicPrefix: o.topicPrefix });
  const allow = (acltype: string) => ({ acltype, topic, allow: true, priority: 10 });
  await access.run([
    {
      command: 'createRole',
      rolename: username,
      acls: [allow('subscribePattern'), allow('publishClientReceive')],
    },
    { command: 'createClient', username, password, roles: [{ rolename: username }] },
  ]);
  const client = await mqtt.connectAsync(o.mqttUrl, {
    protocolVersion: 4,
    clean: true,
    clientId: username,
    username,
    password,
    reconnectPeriod: 0,
  });
  const start = `${o.topicPrefix}/devices/`.length;
  let acks = 0;
  let unverified = 0;
  let backwards = 0;
  const highest = new Map<string, number>();
  client.on('message', (t, payload) => {
    const deviceId = t.slice(start, -'/ack'.length);
    const ack = verifyAck(payload, o.ackKey, 'device', deviceId);
    if (!ack) {
      unverified++;
      return;
    }
    acks++;
    const before = highest.get(deviceId) ?? -1;
    if (ack.seq < before) backwards++;
    else highest.set(deviceId, ack.seq);
  });
  await client.subscribeAsync(topic, { qos: 0 });
  return {
    counts: () => ({ acks, unverified, backwards }),
    reset: () => {
      acks = 0;
      unverified = 0;
      backwards = 0;
    },
    stop: async () => {
      await client.endAsync().catch(() => {});
      await access
        .run(
          [
            { command: 'deleteClient', username },
            { command: 'deleteRole', rolename: username },
          ],
          { deleteClient: ['Client not found'], deleteRole: ['Role not found'] },
        )
        .catch(() => {});
      await access.close();
    },
  };
}
