// MQTT channel: publish the event at QoS 1 on `{topic base}/{shipmentId}` (or `/_site/{id}`, `/_device/{id}`),
// through one client to chipwatch's broker; delivered once the broker PUBACKs.
import mqtt, { type MqttClient } from 'mqtt';
import type { ClaimedDelivery } from '../../db/outbox.ts';
import { eventPayload, mqttTopic } from '../payload.ts';
import type { AttemptResult } from '../retry.ts';

export interface MqttSender {
  send(d: ClaimedDelivery): Promise<AttemptResult>;
  close(): Promise<void>;
}

export function createMqttSender(opts: {
  url: string;
  topicPrefix: string;
  timeoutMs: number;
  clientId: string;
}): MqttSender {
  let client: MqttClient | undefined;
  const connect = () => {
    // Clean session: the outbox, not the broker, keeps what is unsent; mqtt.js reconnects by itself.
    if (!client) {
      client = mqtt.connect(opts.url, { clientId: opts.clientId, clean: true, reconnectPeriod: 1000 });
      // Connection errors surface as publish timeouts (retried); mqtt.js reconnects by itself.
      client.on('error', () => {});
    }
    return client;
  };
  return {
    async send(d) {
      const payload = eventPayload(d.event, d.id);
      const topic = mqttTopic(d.channel.topic ?? `${opts.topicPrefix}/alerts`, payload);
      const c = connect();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.publishAsync(topic, JSON.stringify(payload), { qos: 1 }),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no PUBACK within ${opts.timeoutMs} ms`)),
              opts.timeoutMs,
            );
          }),
        ]);
        return { ok: true };
      } catch (err) {
        return { ok: false, retry: true, error: `MQTT ${topic}: ${(err as Error).message}` };
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await client?.endAsync(true).catch(() => {});
      client = undefined;
    },
  };
}
