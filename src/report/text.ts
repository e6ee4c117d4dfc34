// Text helpers of the report: HTML escaping and UTC times. Pure.

export const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  );

/** An RFC 3339 time or epoch ms as "2026-03-02 14:05:09 UTC"; null as an em dash. */
export function utcTime(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const ms = typeof v === 'number' ? v : Date.parse(v);
  return Number.isFinite(ms) ? `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC` : String(v);
}
