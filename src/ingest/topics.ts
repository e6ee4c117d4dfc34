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
