// Topic names of wire protocol v1: what chipwatch subscribes to and where it acknowledges.

export type TopicSubject = { kind: 'device'; deviceId: string } | { kind: 'site'; siteId: string };

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function telemetryFilter(prefix: string, sharedGroup?: string): string {
  const filter = `${prefix}/devices/+/telemetry`;
  return sharedGroup ? `$share/${sharedGroup}/${filter}` : filter;
}

export function deviceAckTopic(prefix: string, deviceId: string): string {
  return `${prefix}/devices/${deviceId}/ack`;
}

/** `{prefix}/devices/{id}/telemetry` → the device; anything else → undefined. */
export function parseTelemetryTopic(prefix: string, topic: string): string | undefined {
  if (!topic.startsWith(`${prefix}/devices/`) || !topic.endsWith('/telemetry')) return undefined;
  const id = topic.slice(prefix.length + '/devices/'.length, -'/telemetry'.length);
  return ID.test(id) ? id : undefined;
}

export function attestationFilter(prefix: string, sharedGroup?: string): string {
  const filter = `${prefix}/sites/+/attestations`;
  return sharedGroup ? `$share/${sharedGroup}/${filter}` : filter;
}

export function siteAckTopic(prefix: string, siteId: string): string {
  return `${prefix}/sites/${siteId}/ack`;
}

/** `{prefix}/sites/{id}/attestations` → the site; anything else → undefined. */
export function parseAttestationTopic(prefix: string, topic: string): string | undefined {
  if (!topic.startsWith(`${prefix}/sites/`) || !topic.endsWith('/attestations')) return undefined;
  const id = topic.slice(prefix.length + '/sites/'.length, -'/attestations'.length);
  return ID.test(id) ? id : undefined;
}
