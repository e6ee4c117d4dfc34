// Who may do what on the broker (wire protocol v1, "Connecting"), as pure rules the embedded broker applies on every
// CONNECT, PUBLISH and SUBSCRIBE. A tracker may publish only its own telemetry and subscribe only to its own acks; a
// site likewise with attestations; only chipwatch's service user may publish acks, read telemetry or attestations
// (directly, through a wildcard or a `$share/…` group) and use chipwatch's client ids. Retained messages are never
// kept on chipwatch's topics.
import type { SenderKind } from '../domain/messages.ts';

export type Principal = { kind: 'service' } | { kind: SenderKind; id: string };

/** The topic one sender publishes to, and the one it reads its acks from. */
export function ownTopics(prefix: string, kind: SenderKind, id: string): { publish: string; ack: string } {
  return kind === 'device'
    ? { publish: `${prefix}/devices/${id}/telemetry`, ack: `${prefix}/devices/${id}/ack` }
    : { publish: `${prefix}/sites/${id}/attestations`, ack: `${prefix}/sites/${id}/ack` };
}

/** True when the topic (no wildcards) lies under chipwatch's prefix. */
export function isChipwatchTopic(prefix: string, topic: string): boolean {
  return topic === prefix || topic.startsWith(`${prefix}/`);
}

/** May `p` publish on `topic`? Wildcards and empty levels in a publish topic are never allowed. */
export function mayPublish(p: Principal, prefix: string, topic: string): boolean {
  if (topic.length === 0 || topic.includes('+') || topic.includes('#') || topic.includes('\0')) return false;
  if (p.kind === 'service') return true;
  return topic === ownTopics(prefix, p.kind, p.id).publish;
}

/** A retained flag is dropped on chipwatch's topics: a retained ack would greet every rebooting tracker. */
export function keepsRetain(prefix: string, topic: string): boolean {
  return !isChipwatchTopic(prefix, topic);
}

/**
 * May `p` subscribe to `filter`? A tracker or site gets exactly its own ack topic: no wildcard, no shared group
 * (`$share/g/…` would let it read from a topic it names), no `$SYS`.
 */
export function maySubscribe(p: Principal, prefix: string, filter: string): boolean {
  if (filter.length === 0 || filter.includes('\0')) return false;
  if (p.kind === 'service') return true;
  return filter === ownTopics(prefix, p.kind, p.id).ack;
}

/**
 * May `p` connect with `clientId`? chipwatch's service user may use any id; a tracker or site only its own id, so no
 * one can take over the ingest's persistent session (or another tracker's) by connecting under its id.
 */
export function mayUseClientId(p: Principal, clientId: string): boolean {
  if (p.kind === 'service') return true;
  return clientId === p.id;
}
