// A strict JSON reader for evidence: RFC 8259 grammar, and a member name used twice in one object is an error.
// JSON.parse silently keeps the last of two equal names, so one bundle could be read two ways by two verifiers;
// evidence must have exactly one reading. Names are compared after unescaping ("a" and "\u0061" are the same).

export class StrictJsonError extends Error {
  /** Where, as a JSONPath-like string (`$.messages[3].kind`), and the character offset in the text. */
  constructor(
    message: string,
    readonly path: string,
    readonly offset: number,
  ) {
    super(`${message} at ${path} (character ${offset})`);
    this.name = 'StrictJsonError';
  }
}

/** Deeper nesting than this is no bundle chipwatch writes, and recursion must not overflow the stack. */
const MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// A string token: unescaped characters but controls, quote and backslash; or a valid escape.
// biome-ignore lint/suspicious/noControlCharactersInRegex: RFC 8259 §7 forbids raw U+0000–U+001F in strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;

const memberPath = (path: string, name: string) =>
  /^[A-Za-z_$][\w$]*$/.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`;

/** Parses `text` as JSON; throws StrictJsonError on bad syntax or a duplicate member name anywhere. */
export function parseStrictJson(text: string): unknown {
  let i = 0;

  const fail = (what: string, path: string): never => {
    throw new StrictJsonError(what, path, i);
  };
  const skipWs = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
  };
  const readString = (path: string): string => {
    STRING.lastIndex = i;
    const m = STRING.exec(text);
    if (!m) fail('invalid string', path);
    i = STRING.lastIndex;
    // The token is valid JSON, so JSON.parse decodes it exactly as any reader would.
    return JSON.parse(m![0]) as string;
  };

  const value = (path: string, depth: number): unknown => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`, path);
    skipWs();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      const seen = new Set<string>();
      skipWs();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skipWs();
        if (text[i] !== '"') fail('expected a member name', path);
        const at = i;
        const name = readString(path);
        if (seen.has(name)) {
          i = at;
          fail(`duplicate member name ${JSON.stringify(name)}`, memberPath(path, name));
        }
        seen.add(name);
        skipWs();
        if (text[i] !== ':') fail('expected ":"', memberPath(path, name));
        i++;
        const v = value(memberPath(path, name), depth + 1);
        // "__proto__" as an own member, as JSON.parse makes it, never the prototype.
        if (name === '__proto__')
          Object.defineProperty(obj, name, {
            value: v,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        else obj[name] = v;
        skipWs();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail('expected "," or "}"', path);
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      skipWs();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(`${path}[${arr.length}]`, depth + 1));
        skipWs();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected "," or "]"', path);
      }
    }
    if (c === '"') return readString(path);
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail(i >= text.length ? 'unexpected end of text' : 'unexpected character', path);
    i = NUMBER.lastIndex;
    const n = Number(m[0]);
    if (!Number.isFinite(n)) fail('number out of range', path);
    return n;
  };

  // A byte-order mark is no JSON (RFC 8259 §8.1: a parser MAY ignore it; evidence must not be ambiguous).
  const result = value('$', 0);
  skipWs();
  if (i !== text.length) fail('text after the JSON value', '$');
  return result;
}
