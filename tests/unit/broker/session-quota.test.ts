// The embedded broker's bounded session queues (src/broker/session-quota.ts): below the quota they behave exactly as
// aedes' own in-memory persistence (a random sequence of deliveries, message ids, acknowledgements and redeliveries
// compared operation by operation); at the quota the oldest messages go first.
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  boundSessionQueues,
  type OutgoingQueue,
  type QueuedPacket,
} from '../../../src/broker/session-quota.ts';

const brokers: Aedes[] = [];
/** A fresh aedes persistence (aedes' own in-memory one), as the embedded broker starts with. */
async function persistence(): Promise<OutgoingQueue> {
  const broker = await Aedes.createBroker();
  brokers.push(broker);
  return (broker as unknown as { persistence: OutgoingQueue }).persistence;
}
afterAll(async () => {
  await Promise.all(brokers.map((b) => new Promise<void>((r) => b.close(() => r()))));
});

const packet = (brokerId: string, brokerCounter: number, bytes = 10): QueuedPacket => ({
  cmd: 'publish',
  brokerId,
  brokerCounter,
  topic: `t/${brokerCounter}`,
  payload: Buffer.alloc(bytes),
  qos: 1,
  retain: false,
  dup: false,
});

async function streamed(p: OutgoingQueue, clientId: string) {
  const out: Pick<QueuedPacket, 'cmd' | 'brokerId' | 'brokerCounter' | 'topic' | 'messageId'>[] = [];
  for await (const q of p.outgoingStream({ id: clientId }) as AsyncIterable<QueuedPacket>) {
    out.push({
      cmd: q.cmd,
      brokerId: q.brokerId,
      brokerCounter: q.brokerCounter,
      topic: q.topic,
      messageId: q.messageId,
    });
  }
  return out;
}

/** A small deterministic generator, so a failure replays. */
function random(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

describe('below the quota, as aedes keeps sessions', () => {
  let stock: OutgoingQueue;
  let bounded: OutgoingQueue;
  beforeAll(async () => {
    stock = await persistence();
    bounded = await persistence();
    boundSessionQueues(bounded, { maxMessages: 1_000_000, maxBytes: 1e12 });
  });

  it('answers every operation of a random session history as aedes does', async () => {
    const rnd = random(11);
    const client = { id: 'ingest' };
    const sent: QueuedPacket[] = [];
    let counter = 0;
    // Few message ids, so ids repeat across queued packets as they do once 65535 wraps.
    const nextId = () => 1 + rnd(40);
    for (let step = 0; step < 3000; step++) {
      const op = rnd(10);
      if (op < 4 || sent.length === 0) {
        const p = packet(rnd(8) === 0 ? 'other-broker' : 'b1', ++counter);
        await stock.outgoingEnqueue({ clientId: client.id }, { ...p });
        await bounded.outgoingEnqueue({ clientId: client.id }, { ...p });
        sent.push(p);
      } else if (op < 7) {
        // The broker hands a queued packet its message id (a first delivery or a redelivery).
        const p = { ...sent[rnd(sent.length)]!, messageId: nextId() };
        // Each store gets its own copy: aedes keeps the very object it is given.
        const a = await stock.outgoingUpdate(client, { ...p }).then(
          () => 'ok',
          () => 'no such packet',
        );
        if (a === 'ok') await bounded.outgoingUpdate(client, { ...p });
      } else if (op < 8) {
        // A PUBREL of another broker takes the place of the queued packet with its message id.
        const p = { ...packet('pubrel-broker', 0), cmd: 'pubrel', messageId: nextId() };
        // Each store gets its own copy: aedes keeps the very object it is given.
        const a = await stock.outgoingUpdate(client, { ...p }).then(
          () => 'ok',
          () => 'no such packet',
        );
        if (a === 'ok') await bounded.outgoingUpdate(client, { ...p });
      } else {
        // The client acknowledges a message id.
        const id = { messageId: nextId() };
        const [a, b] = [
          await stock.outgoingClearMessageId(client, id),
          await bounded.outgoingClearMessageId(client, id),
        ];
        expect(b?.brokerCounter, `step ${step}`).toBe(a?.brokerCounter);
        expect(b?.brokerId, `step ${step}`).toBe(a?.brokerId);
      }
      if (step % 10 === 0)
        expect(await streamed(bounded, client.id), `step ${step}`).toEqual(await streamed(stock, client.id));
    }
    expect(await streamed(bounded, client.id)).toEqual(await streamed(stock, client.id));
  });

  it('keeps what aedes keeps of a packet, MQTT 5 properties and message expiry included', async () => {
    const p = { ...packet('b1', 1), properties: { contentType: 'application/jose' }, messageExpiry: 123 };
    await bounded.outgoingEnqueue({ clientId: 'v5' }, p);
    const [held] = (await (
      bounded.outgoingStream({ id: 'v5' }) as unknown as { toArray(): Promise<unknown[]> }
    ).toArray()) as (QueuedPacket & typeof p)[];
    expect(held?.properties).toEqual({ contentType: 'application/jose' });
    expect(held?.messageExpiry).toBe(123);
  });
});

describe('at the quota', () => {
  it('drops the oldest messages beyond the count, counts them, and the acknowledgement of a dropped one finds nothing', async () => {
    const p = await persistence();
    const drops: number[] = [];
    const q = boundSessionQueues(p, { maxMessages: 3, maxBytes: 1e9, onDrop: (_c, n) => drops.push(n) });
    for (let i = 1; i <= 5; i++) {
      await p.outgoingEnqueue({ clientId: 'c' }, packet('b1', i));
      await p.outgoingUpdate({ id: 'c' }, { ...packet('b1', i), messageId: i });
    }
    expect((await streamed(p, 'c')).map((x) => x.brokerCounter)).toEqual([3, 4, 5]);
    expect(drops).toEqual([1, 1]);
    expect(await p.outgoingClearMessageId({ id: 'c' }, { messageId: 1 })).toBeUndefined();
    expect((await p.outgoingClearMessageId({ id: 'c' }, { messageId: 4 }))?.brokerCounter).toBe(4);
    expect(q.queued()).toMatchObject({ sessions: 1, messages: 2, largestMessages: 2 });
  });

  it('drops by bytes, but always keeps the newest message', async () => {
    const p = await persistence();
    const q = boundSessionQueues(p, { maxMessages: 100, maxBytes: 50 });
    for (let i = 1; i <= 4; i++) await p.outgoingEnqueue({ clientId: 'c' }, packet('b1', i, 20));
    // 20 bytes of payload plus the topic's 3: two fit in 50 bytes.
    expect((await streamed(p, 'c')).map((x) => x.brokerCounter)).toEqual([3, 4]);
    expect(q.queued()).toMatchObject({ messages: 2, bytes: 46 });
    await p.outgoingEnqueue({ clientId: 'c' }, packet('b1', 5, 500));
    expect((await streamed(p, 'c')).map((x) => x.brokerCounter)).toEqual([5]);
  });

  it('forgets a session whose queue empties or whose subscriptions are cleaned', async () => {
    const p = await persistence();
    const q = boundSessionQueues(p, { maxMessages: 10, maxBytes: 1e9 });
    await p.outgoingEnqueue({ clientId: 'a' }, packet('b1', 1));
    await p.outgoingUpdate({ id: 'a' }, { ...packet('b1', 1), messageId: 7 });
    await p.outgoingEnqueue({ clientId: 'b' }, packet('b1', 2));
    expect(q.queued().sessions).toBe(2);
    await p.outgoingClearMessageId({ id: 'a' }, { messageId: 7 });
    await p.cleanSubscriptions({ id: 'b' });
    expect(q.queued()).toEqual({ sessions: 0, messages: 0, bytes: 0, largestMessages: 0, largestBytes: 0 });
  });
});
