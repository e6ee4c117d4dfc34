// The strict JSON reader: reads what JSON.parse reads, and refuses a member name used twice in one object.
import { describe, expect, it } from 'vitest';
import { parseStrictJson, StrictJsonError } from '../../../src/evidence/strict-json.ts';

const refusal = (text: string) => {
  try {
    parseStrictJson(text);
  } catch (e) {
    expect(e).toBeInstanceOf(StrictJsonError);
    return e as StrictJsonError;
  }
  throw new Error(`accepted ${text}`);
};

describe('strict JSON', () => {
  it('reads valid JSON exactly as JSON.parse does', () => {
    for (const text of [
      '{}',
      '[]',
      ' {"a" : [1, -0.5, 2e3, 1E-2, 0, true, false, null, "x"] , "b":{"c":{}} } ',
      '"\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t"',
      '"😀 ü"',
      '-12',
      '{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}',
      '{"__proto__":{"polluted":true}}',
    ]) {
      expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    }
    const own = parseStrictJson('{"__proto__":{"x":1}}') as Record<string, unknown>;
    expect(Object.hasOwn(own, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('refuses a duplicate member name at the top level, naming it', () => {
    const e = refusal('{"format":"a","digest":1,"format":"b"}');
    expect(e.path).toBe('$.format');
    expect(e.message).toMatch(/duplicate member name "format"/);
  });

  it('refuses a duplicate member name nested in arrays and objects, with its path', () => {
    expect(refusal('{"messages":[{"kind":"a"},{"kind":"a","topic":"t","kind":"b"}]}').path).toBe(
      '$.messages[1].kind',
    );
    expect(refusal('{"x":{"odd key":1,"odd key":1}}').path).toBe('$.x["odd key"]');
  });

  it('compares names after unescaping: "a" and "\\u0061" are the same name', () => {
    expect(refusal('{"a":1,"\\u0061":2}').path).toBe('$.a');
  });

  it('refuses what RFC 8259 does not allow', () => {
    for (const text of [
      '',
      '{"a":1,}',
      '[1,]',
      '{a:1}',
      "{'a':1}",
      '01',
      '1.',
      '.5',
      '-',
      '+1',
      'NaN',
      'Infinity',
      '1e400',
      '"tab\tinside"',
      '"\\x41"',
      '"\\u12"',
      '{"a":1} x',
      '{"a":1}{"b":2}',
      '/* c */ {}',
      '\ufeff{}',
      'tru',
      '[1 2]',
      '{"a" 1}',
    ]) {
      refusal(text);
    }
  });

  it('refuses nesting deeper than 512 instead of overflowing the stack', () => {
    expect(parseStrictJson(`${'['.repeat(500)}${']'.repeat(500)}`)).toBeInstanceOf(Array);
    expect(refusal(`${'['.repeat(100_000)}${']'.repeat(100_000)}`).message).toMatch(/nesting deeper/);
  });
});
