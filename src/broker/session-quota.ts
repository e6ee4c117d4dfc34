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

/** What aedes' own persistence keeps of a queued packet (aedes-packet): every field, MQTT 5 properties included. */
const copy = (p: QueuedPacket): QueuedPacket => ({ ...p, cmd: p.cmd || 'publish' });

const size = (p: QueuedPacket) => (p.payload?.length ?? 0) + (p.topic?.length ?? 0);

/**
 * Keys of queued packets by a value, oldest first. Nearly every value names one packet, kept as a bare number; a
 * list only when several share it, so a delivery allocates nothing here.
 */
class Postings<V> {
  private readonly keys = new Map<V, number | number[]>();

  first(v: V): number | undefined {
    const k = this.keys.get(v);
    return typeof k === 'number' ? k : k?.[0];
  }

  find(v: V, pred: (key: number) => boolean): number | undefined {
    const k = this.keys.get(v);
    if (k === undefined) return undefined;
    if (typeof k === 'number') return pred(k) ? k : undefined;
    return k.find(pred);
  }

  add(v: V, key: number): void {
    const k = this.keys.get(v);
    if (k === undefined) {
      this.keys.set(v, key);
      return;
    }
    const list = typeof k === 'number' ? [k] : k;
    let i = list.length;
    while (i > 0 && list[i - 1]! > key) i--;
    list.splice(i, 0, key);
    if (typeof k === 'number') this.keys.set(v, list);
  }

  delete(v: V, key: number): void {
    const k = this.keys.get(v);
    if (k === key) {
      this.keys.delete(v);
      return;
    }
    if (typeof k !== 'object') return;
    const i = k.indexOf(key);
    if (i >= 0) k.splice(i, 1);
    if (k.length === 1) this.keys.set(v, k[0]!);
  }
}

/** Postings by (broker id, broker counter), one map of counters per broker id: no key string per packet. */
class PairPostings {
  private readonly byBroker = new Map<string, Postings<number>>();

  first(p: QueuedPacket): number | undefined {
    return this.byBroker.get(p.brokerId)?.first(p.brokerCounter);
  }

  add(p: QueuedPacket, key: number): void {
    let counters = this.byBroker.get(p.brokerId);
    if (!counters) {
      counters = new Postings();
      this.byBroker.set(p.brokerId, counters);
    }
    counters.add(p.brokerCounter, key);
  }

  delete(p: QueuedPacket, key: number): void {
    this.byBroker.get(p.brokerId)?.delete(p.brokerCounter, key);
  }
}

/**
 * One session's queue, oldest first, with the two lookups aedes makes indexed: by (broker id, broker counter) when
 * a packet is handed its message id, and by message id when the client acknowledges it. The aedes in-memory
 * persistence scans the whole queue for both, which made every delivery cost O(messages in flight).
 */
class SessionQueue {
  /** Insertion-ordered: the first entry is the oldest. */
  readonly items = new Map<number, QueuedPacket>();
  bytes = 0;
  private next = 0;
  private readonly byPair = new PairPostings();
  /** Message ids wrap at 65535, so a long queue may hold one twice. */
  private readonly byMessageId = new Postings<number | undefined>();

  push(p: QueuedPacket): void {
    const key = this.next++;
    this.items.set(key, p);
    this.bytes += size(p);
    this.index(key, p);
  }

  /** Drops the oldest packet. */
  shift(): void {
    const first = this.items.keys().next();
    if (!first.done) this.remove(first.value);
  }

  /**
   * As aedes' in-memory persistence, whichever comes first in the queue: the packet the broker sent (same broker id
   * and counter) gets the message id, or a packet of another broker with that message id is replaced (a PUBREL).
   */
  update(p: QueuedPacket): void {
    const own = this.byPair.first(p);
    const other = this.byMessageId.find(p.messageId, (k) => this.items.get(k)!.brokerId !== p.brokerId);
    if (own !== undefined && (other === undefined || own < other)) {
      const held = this.items.get(own)!;
      this.byMessageId.delete(held.messageId, own);
      held.messageId = p.messageId;
      this.byMessageId.add(held.messageId, own);
    } else if (other !== undefined) {
      const held = this.items.get(other)!;
      this.unindex(other, held);
      this.items.set(other, p);
      this.bytes += size(p) - size(held);
      this.index(other, p);
    }
  }

  /** Removes and returns the oldest packet with this message id. */
  clear(messageId: number | undefined): QueuedPacket | undefined {
    const key = this.byMessageId.first(messageId);
    if (key === undefined) return undefined;
    const held = this.items.get(key)!;
    this.remove(key);
    return held;
  }

  private remove(key: number): void {
    const held = this.items.get(key)!;
    this.items.delete(key);
    this.bytes -= size(held);
    this.unindex(key, held);
  }

  private index(key: number, p: QueuedPacket): void {
    this.byPair.add(p, key);
    this.byMessageId.add(p.messageId, key);
  }

  private unindex(key: number, p: QueuedPacket): void {
    this.byPair.delete(p, key);
    this.byMessageId.delete(p.messageId, key);
  }
}

/** Installs bounded outgoing queues on an aedes persistence object, in place; returns the queued totals. */
export function boundSessionQueues(persistence: OutgoingQueue, o: QuotaOptions): { queued(): QueueTotals } {
  const queues = new Map<string, SessionQueue>();

  const enqueue = (clientId: string, packet: QueuedPacket) => {
    let q = queues.get(clientId);
    if (!q) {
      q = new SessionQueue();
      queues.set(clientId, q);
    }
    q.push(copy(packet));
    let dropped = 0;
    while (q.items.size > 1 && (q.items.size > o.maxMessages || q.bytes > o.maxBytes)) {
      q.shift();
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
      queues.get(client.id)?.update(packet);
    },
    outgoingClearMessageId: async (client: { id: string }, packet: { messageId?: number }) => {
      const q = queues.get(client.id);
      const removed = q?.clear(packet.messageId);
      if (q && q.items.size === 0) queues.delete(client.id);
      return removed;
    },
    outgoingStream: (client: { id: string }) =>
      Readable.from([...(queues.get(client.id)?.items.values() ?? [])]),
    cleanSubscriptions: async (client: { id: string }) => {
      queues.delete(client.id);
      await cleanSubscriptions(client);
    },
  } satisfies OutgoingQueue);

  return {
    queued: () => {
      const t = { sessions: queues.size, messages: 0, bytes: 0, largestMessages: 0, largestBytes: 0 };
      for (const q of queues.values()) {
        t.messages += q.items.size;
        t.bytes += q.bytes;
        t.largestMessages = Math.max(t.largestMessages, q.items.size);
        t.largestBytes = Math.max(t.largestBytes, q.bytes);
      }
      return t;
    },
  };
}
