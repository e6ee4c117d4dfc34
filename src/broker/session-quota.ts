// A bound on what the embedded broker keeps for one persistent session: at most `maxMessages` QoS 1 messages and
// `maxBytes` of payload per client id, the oldest dropped beyond that. Without it a client that subscribes with
// clean session off and goes away makes the broker keep every matching message for ever (112 MiB in an hour was
// measured). Replaces the five outgoing-queue methods of aedes' in-memory persistence, which keeps no limit; a
// dropped message is only lost to that session (a tracker resends whatever chipwatch did not ack).
import { Readable } from 'node:stream';

export interface QueuedPacket {
  cmd: string;
  brokerId: string;
  brokerCounter: number;
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  dup: boolean;
  messageId?: number;
}

/** The outgoing-queue half of an aedes persistence (aedes calls these; all return promises). */
export interface OutgoingQueue {
  outgoingEnqueue(sub: { clientId: string }, packet: QueuedPacket): Promise<void>;
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: QueuedPacket): Promise<void>;
  outgoingUpdate(client: { id: string }, packet: QueuedPacket): Promise<void>;
  outgoingClearMessageId(
    client: { id: string },
    packet: { messageId?: number },
  ): Promise<QueuedPacket | undefined>;
  outgoingStream(client: { id: string }): Readable;
  cleanSubscriptions(client: { id: string }): Promise<void>;
}

/** What all sessions hold together, and the fullest one. */
export interface QueueTotals {
  sessions: number;
  messages: number;
  bytes: number;
  largestMessages: number;
  largestBytes: number;
}

export interface QuotaOptions {
  maxMessages: number;
  maxBytes: number;
  /** Called when messages of a session are dropped (counted, logged). */
  onDrop?(clientId: string, dropped: number): void;
}

const copy = (p: QueuedPacket): QueuedPacket => ({
  cmd: p.cmd || 'publish',
  brokerId: p.brokerId,
  brokerCounter: p.brokerCounter,
  topic: p.topic,
  payload: p.payload,
  qos: p.qos,
  retain: p.retain,
  dup: p.dup,
  messageId: p.messageId,
});

/** Installs bounded outgoing queues on an aedes persistence object, in place; returns the queued totals. */
export function boundSessionQueues(persistence: OutgoingQueue, o: QuotaOptions): { queued(): QueueTotals } {
  const queues = new Map<string, { items: QueuedPacket[]; bytes: number }>();
  const size = (p: QueuedPacket) => (p.payload?.length ?? 0) + p.topic.length;

  const enqueue = (clientId: string, packet: QueuedPacket) => {
    let q = queues.get(clientId);
    if (!q) {
      q = { items: [], bytes: 0 };
      queues.set(clientId, q);
    }
    q.items.push(copy(packet));
    q.bytes += size(packet);
    let dropped = 0;
    while (q.items.length > 1 && (q.items.length > o.maxMessages || q.bytes > o.maxBytes)) {
      q.bytes -= size(q.items.shift()!);
      dropped++;
    }
    if (dropped > 0) o.onDrop?.(clientId, dropped);
  };

  const cleanSubscriptions = persistence.cleanSubscriptions.bind(persistence);
  Object.assign(persistence, {
    outgoingEnqueue: async (sub: { clientId: string }, packet: QueuedPacket) => enqueue(sub.clientId, packet),
    outgoingEnqueueCombi: async (subs: { clientId: string }[], packet: QueuedPacket) => {
      for (const sub of subs) enqueue(sub.clientId, packet);
    },
    // Never throws: a packet dropped by the quota while being delivered is simply no longer kept for redelivery.
    outgoingUpdate: async (client: { id: string }, packet: QueuedPacket) => {
      const items = queues.get(client.id)?.items ?? [];
      for (let i = 0; i < items.length; i++) {
        const held = items[i]!;
        if (held.brokerId === packet.brokerId && held.brokerCounter === packet.brokerCounter) {
          held.messageId = packet.messageId;
          return;
        }
      }
    },
    outgoingClearMessageId: async (client: { id: string }, packet: { messageId?: number }) => {
      const q = queues.get(client.id);
      if (!q) return undefined;
      const i = q.items.findIndex((p) => p.messageId === packet.messageId);
      if (i < 0) return undefined;
      const [removed] = q.items.splice(i, 1);
      q.bytes -= size(removed!);
      if (q.items.length === 0) queues.delete(client.id);
      return removed;
    },
    outgoingStream: (client: { id: string }) => Readable.from([...(queues.get(client.id)?.items ?? [])]),
    cleanSubscriptions: async (client: { id: string }) => {
      queues.delete(client.id);
      await cleanSubscriptions(client);
    },
  } satisfies OutgoingQueue);

  return {
    queued: () => {
      const t = { sessions: queues.size, messages: 0, bytes: 0, largestMessages: 0, largestBytes: 0 };
      for (const q of queues.values()) {
        t.messages += q.items.length;
        t.bytes += q.bytes;
        t.largestMessages = Math.max(t.largestMessages, q.items.length);
        t.largestBytes = Math.max(t.largestBytes, q.bytes);
      }
      return t;
    },
  };
}
