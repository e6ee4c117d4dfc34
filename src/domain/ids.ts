// The one grammar of ids (devices, sites, shipments, landmarks, zones, channels) as they appear in topics, URLs and payloads.

/**
 * 1–128 of A–Z a–z 0–9 . _ : -, but not "." or ".." — safe in an MQTT topic level, a URL path segment and a log
 * line. The two dot-only ids are dot-segments: every URL library removes them from a path (RFC 3986 §5.2.4), so
 * `GET /v1/devices/..` would reach `/v1`. The lookahead is ECMA-262 syntax, valid in a JSON Schema `pattern` too.
 */
export const ID_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._:-]{1,128}$/;

export const ID_RULE = 'ids are 1–128 of A–Z a–z 0–9 . _ : -, and not "." or ".."';

export function isId(s: string): boolean {
  return ID_PATTERN.test(s);
}
