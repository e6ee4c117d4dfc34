// What Mosquitto's dynamic-security plugin is told, as values: the role of each tracker or site (its own telemetry
// or attestations topic to publish, its own ack topic to subscribe), the role of chipwatch's service client, and the
// default access (deny). src/broker/dynsec.ts sends these; nothing here does I/O.
import type { SenderKind } from '../domain/messages.ts';
import { attestationFilter, deviceAckTopic, siteAckTopic, telemetryFilter } from '../ingest/topics.ts';

export type AclType =
  | 'publishClientSend'
  | 'publishClientReceive'
  | 'subscribeLiteral'
  | 'subscribePattern'
  | 'unsubscribeLiteral'
  | 'unsubscribePattern';

export interface Acl {
  acltype: AclType;
  topic: string;
  allow: boolean;
  priority?: number;
}

/** The dynsec role that holds chipwatch's own clients' rights (ingest, acks, MQTT alert channels). */
export const SERVICE_ROLE = 'chipwatch-service';

/** One role per tracker or site, named for it, so revoking one never touches another's rights. */
export function senderRole(kind: SenderKind, id: string): string {
  return `chipwatch-${kind}-${id}`;
}

/** The kind a role of senderRole() names, if it is one. */
export function kindOfRole(rolename: string): SenderKind | undefined {
  if (rolename.startsWith('chipwatch-device-')) return 'device';
  if (rolename.startsWith('chipwatch-site-')) return 'site';
  return undefined;
}

const allow = (acltype: AclType, topic: string): Acl => ({ acltype, topic, allow: true });

/**
 * A tracker may publish to its own telemetry topic and subscribe to (and receive) its own ack topic, nothing else;
 * a site likewise with attestations. Literal ACLs: `…/devices/+/ack` or `#` match none of them.
 */
export function senderAcls(prefix: string, kind: SenderKind, id: string): Acl[] {
  const inbound =
    kind === 'device' ? `${prefix}/devices/${id}/telemetry` : `${prefix}/sites/${id}/attestations`;
  const ack = kind === 'device' ? deviceAckTopic(prefix, id) : siteAckTopic(prefix, id);
  return [
    allow('publishClientSend', inbound),
    allow('subscribeLiteral', ack),
    allow('publishClientReceive', ack),
  ];
}

/**
 * chipwatch's service clients read every tracker's telemetry and every site's attestations (directly or through a
 * shared subscription `$share/<group>/…`, whatever the group) and publish acks and alerts. An MQTT alert channel may
 * name any topic base, so the service may publish anywhere except the inbound topics, which only trackers and sites
 * write ('#' never matches `$CONTROL/…` or `$SYS/…`: the service cannot administer the broker).
 */
export function serviceAcls(prefix: string): Acl[] {
  const inbound = [telemetryFilter(prefix), attestationFilter(prefix)];
  return [
    ...inbound.map((f) => allow('subscribePattern', f)),
    ...inbound.map((f) => allow('subscribePattern', `$share/+/${f}`)),
    ...inbound.map((f) => allow('publishClientReceive', f)),
    ...inbound.map((f): Acl => ({ acltype: 'publishClientSend', topic: f, allow: false, priority: 1 })),
    allow('publishClientSend', '#'),
  ];
}

/** What no role allows is denied; unsubscribing grants nothing, so it stays allowed (a client may always leave). */
export const DEFAULT_ACL_ACCESS = [
  { acltype: 'publishClientSend', allow: false },
  { acltype: 'publishClientReceive', allow: false },
  { acltype: 'subscribe', allow: false },
  { acltype: 'unsubscribe', allow: true },
] as const;
