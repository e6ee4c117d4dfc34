// The one grammar of ids (devices, sites, shipments, landmarks, zones, channels) as they appear in topics, URLs and payloads.

/** 1–128 of A–Z a–z 0–9 . _ : - — safe in an MQTT topic level, a URL path segment and a log line. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const ID_RULE = 'ids are 1–128 of A–Z a–z 0–9 . _ : -';

export function isId(s: string): boolean {
  return ID_PATTERN.test(s);
}
