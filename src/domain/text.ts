// Text that PostgreSQL (and a log line) can hold: no NUL, no control characters, no lone UTF-16 surrogates.
// PostgreSQL refuses NUL in text and `\u0000` or an unpaired surrogate in jsonb with an error: checked here first,
// every string from outside (HTTP bodies, paths, query strings, headers; MQTT payload fields) is refused with its
// place named instead of failing inside the database. Pure: no I/O.

/** Tab, line feed and carriage return: allowed in free text (a note, a description), never in ids or queries. */
const WHITESPACE = new Set([0x09, 0x0a, 0x0d]);

export interface TextRules {
  /** Allow tab, LF and CR (free text in a JSON body); default false. */
  allowLineBreaks?: boolean;
}

/** What is wrong with `s`, naming the first bad character and its index; undefined when it is fine. */
export function textProblem(s: string, rules: TextRules = {}): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return `contains NUL (U+0000) at index ${i}`;
    // C0 controls, DEL and C1 controls.
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      if (rules.allowLineBreaks && WHITESPACE.has(c)) continue;
      return `contains control character U+${hex(c)} at index ${i}`;
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `contains an unpaired surrogate U+${hex(c)} at index ${i}`;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return `contains an unpaired surrogate U+${hex(c)} at index ${i}`;
  }
  return undefined;
}

const hex = (c: number) => c.toString(16).toUpperCase().padStart(4, '0');

/**
 * False when UTF-8 JSON cannot parse to any string (key or value) that `textProblem` refuses, so the walk can be
 * skipped. Raw C0 controls are not valid JSON; NUL, C0 controls and lone surrogates can only be written as `\u`
 * escapes (a backslash); a UTF-8 decoder turns invalid or overlong sequences into U+FFFD. What is left to look for
 * is DEL (7F) and the C1 controls U+0080–U+009F (C2 80–C2 9F). Each test is a byte search over the payload.
 */
export function jsonBytesMayHoldBadText(utf8: Uint8Array): boolean {
  if (utf8.indexOf(0x5c) !== -1 || utf8.indexOf(0x7f) !== -1) return true;
  for (let i = utf8.indexOf(0xc2); i !== -1; i = utf8.indexOf(0xc2, i + 1)) {
    const next = utf8[i + 1];
    if (next !== undefined && next >= 0x80 && next <= 0x9f) return true;
  }
  return false;
}

/** Deepest nesting walked; a deeper value is reported rather than recursed into. */
const MAX_DEPTH = 64;

/**
 * The first string in `value` (object keys included, depth first) that breaks the rules, as `path: problem`, e.g.
 * `destination.name: contains NUL (U+0000) at index 3`; undefined when every string is fine.
 */
export function findTextProblem(value: unknown, rules: TextRules = {}, path = ''): string | undefined {
  return walk(value, rules, path, 0);
}

function walk(value: unknown, rules: TextRules, path: string, depth: number): string | undefined {
  if (typeof value === 'string') {
    const p = textProblem(value, rules);
    return p && `${path || 'value'}: ${p}`;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_DEPTH) return `${path || 'value'}: nested deeper than ${MAX_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = walk(value[i], rules, `${path}[${i}]`, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    const where = path ? `${path}.${k}` : k;
    const keyProblem = textProblem(k, rules);
    if (keyProblem) return `${path ? `${path}.` : ''}(a key): ${keyProblem}`;
    const p = walk(v, rules, where, depth + 1);
    if (p) return p;
  }
  return undefined;
}
