// Topic names of wire protocol v1: what chipwatch subscribes to and where it acknowledges. Trackers and sites use
// the same shape, `{prefix}/{devices|sites}/{id}/{telemetry|attestations|ack}`.

import { ID_PATTERN as ID } from '../domain/ids.ts';
import type { Inbound } from '../domain/messages.ts';
import type { Envelope } from '../verify/screen.ts';

type Senders = 'devices' | 'sites';

function filter(prefix: string, senders: Senders, kind: string, sharedGroup?: string): string {
  const f = `${prefix}/${senders}/+/${kind}`;
  return sharedGroup ? `$share/${sharedGroup}/${f}` : f;
}

/** `{prefix}/{senders}/{id}/{kind}` → the id; anything else → undefined. */
function idOf(prefix: string, senders: Senders, kind: string, topic: string): string | undefined {
  const head = `${prefix}/${senders}/`;
  const tail = `/${kind}`;
  if (!topic.startsWith(head) || !topic.endsWith(tail)) return undefined;
  const id = topic.slice(head.length, -tail.length);
  return ID.test(id) ? id : undefined;
}

export const telemetryFilter = (prefix: string, sharedGroup?: string) =>
  filter(prefix, 'devices', 'telemetry', sharedGroup);
export const attestationFilter = (prefix: string, sharedGroup?: string) =>
  filter(prefix, 'sites', 'attestations', sharedGroup);
export const deviceAckTopic = (prefix: string, deviceId: string) => `${prefix}/devices/${deviceId}/ack`;
export const siteAckTopic = (prefix: string, siteId: string) => `${prefix}/sites/${siteId}/ack`;
export const parseTelemetryTopic = (prefix: string, topic: string) =>
  idOf(prefix, 'devices', 'telemetry', topic);
export const parseAttestationTopic = (prefix: string, topic: string) =>
  idOf(prefix, 'sites', 'attestations', topic);

/** Who a message claims to come from, by its topic: a site on an attestation topic, else a tracker (or nobody). */
export function envelopeOf(prefix: string, msg: Inbound): Envelope {
  const siteId = parseAttestationTopic(prefix, msg.topic);
  if (siteId !== undefined) return { msg, sender: 'site', senderId: siteId };
  return { msg, sender: 'device', senderId: parseTelemetryTopic(prefix, msg.topic) ?? null };
}
