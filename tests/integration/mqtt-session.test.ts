// chipwatch's ingest MQTT session against a real aedes: a message is acknowledged to the broker only when its ack()
// is called (after its batch commits), and a batch's PUBACKs, packed into one write, each reach the broker, whether
// or not anything else is written in the same batch.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IncomingPublish, MqttSession } from '../../src/ingest/mqtt-session.ts';
import { createLogger } from '../../src/log.ts';
import { startOpenAedes } from '../helpers/broker.ts';
import { until } from '../helpers/chipwatch.ts';

describe('the ingest session acknowledges what it is told to, all of it', () => {
  let broker: Awaited<ReturnType<typeof startOpenAedes>>;
  let session: MqttSession;
  let publisher: mqtt.MqttClient;
  const received: IncomingPublish[] = [];
  /** Payloads the broker got a PUBACK for from the session. */
  const acked: string[] = [];

  beforeAll(async () => {
    broker = await startOpenAedes();
    broker.aedes.on('ack', (packet, client) => {
      if (client?.id === 'ingest-under-test' && packet && 'payload' in packet)
        acked.push(String(packet.payload));
    });
    session = new MqttSession({
      url: broker.url,
      clientId: 'ingest-under-test',
      subscriptions: ['in/#'],
      log: createLogger('silent'),
      onPublish: (m) => received.push(m),
    });
    await session.start();
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'publisher', reconnectPeriod: 0 });
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await session?.close();
    await broker?.stop();
  });

  async function deliver(prefix: string, n: number): Promise<IncomingPublish[]> {
    const from = received.length;
    await Promise.all(
      Array.from({ length: n }, (_, i) => publisher.publishAsync('in/x', `${prefix}-${i}`, { qos: 1 })),
    );
    await until(`${n} messages delivered`, async () => received.length >= from + n);
    return received.slice(from, from + n);
  }

  it('sends no PUBACK before ack(), and every PUBACK of a batch written with nothing else', async () => {
    const batch = await deliver('a', 300);
    expect(acked.filter((p) => p.startsWith('a-'))).toEqual([]);
    session.batchWrites(() => {
      for (const m of batch) m.ack();
    });
    await until('300 PUBACKs', async () => acked.filter((p) => p.startsWith('a-')).length === 300);
    expect(new Set(acked.filter((p) => p.startsWith('a-')))).toEqual(
      new Set(batch.map((m) => String(m.payload))),
    );
  });

  it('keeps PUBACKs and publishes of one batch all delivered, and acks once however often ack() is called', async () => {
    const batch = await deliver('b', 40);
    const echoes: string[] = [];
    const echo = await mqtt.connectAsync(broker.url, { clientId: 'echo', reconnectPeriod: 0 });
    try {
      echo.on('message', (_t, p) => echoes.push(String(p)));
      await echo.subscribeAsync('out/#', { qos: 1 });
      session.batchWrites(() => {
        for (const m of batch.slice(0, 20)) m.ack();
        session.publish('out/ack', 'between');
        for (const m of batch) m.ack();
      });
      await until('40 PUBACKs', async () => acked.filter((p) => p.startsWith('b-')).length >= 40);
      await until('the publish', async () => echoes.includes('between'));
      // Outside a batch, ack() writes at once.
      const [late] = await deliver('c', 1);
      late!.ack();
      await until('the PUBACK outside a batch', async () => acked.includes('c-0'));
    } finally {
      await echo.endAsync();
    }
    expect(acked.filter((p) => p.startsWith('b-')).sort()).toEqual(
      batch.map((m) => String(m.payload)).sort(),
    );
  });
});
