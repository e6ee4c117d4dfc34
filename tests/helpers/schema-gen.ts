// Values from the JSON Schemas of an OpenAPI 3.1 document, seeded: `valid` builds one the schema accepts, `invalid`
// one it refuses (with why). Small on purpose: the schemas chipwatch's zod declarations produce (objects, unions,
// enums, bounded numbers and strings, a handful of patterns and formats). A pattern it does not know is an error,
// so a new one is noticed and given a generator here.

/** mulberry32: a small seeded PRNG; the same seed gives the same run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Schema = Record<string, any>;

/** The id grammar (src/domain/ids.ts) as the OpenAPI document states it. */
const ID_SOURCE = '^(?!\\.{1,2}$)[A-Za-z0-9._:-]{1,128}$';
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-';
const TEXT_CHARS = 'abcdefghijklmnopqrstuvwxyz ABC0123456789-_.,é中';
/** Strings a schema refuses or a database chokes on, whatever the field. */
const NASTY = ['\u0000', 'a\u0000b', '\u001b[31m', '\u0007', '\ud800', 'x'.repeat(5000)];

export class SchemaGen {
  constructor(
    private readonly doc: any,
    readonly rnd: () => number,
    /** Ids the database holds, used now and then so requests reach real rows. */
    private readonly knownIds: string[] = [],
  ) {}

  int(lo: number, hi: number) {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }
  chance(p: number) {
    return this.rnd() < p;
  }

  resolve(s: Schema | undefined): Schema {
    let cur = s ?? {};
    for (let i = 0; cur.$ref && i < 20; i++) {
      const path = (cur.$ref as string).replace(/^#\//, '').split('/');
      cur = path.reduce((o: any, k) => o?.[k], this.doc) ?? {};
    }
    return cur;
  }

  valid(schema: Schema | undefined, depth = 0): unknown {
    const s = this.resolve(schema);
    if ('const' in s) return s.const;
    if (s.enum) return this.pick(s.enum);
    const union = s.anyOf ?? s.oneOf;
    if (union) return this.valid(this.pick(union), depth + 1);
    if (s.allOf) return this.valid(mergeAll(s.allOf.map((x: Schema) => this.resolve(x))), depth + 1);
    let type = s.type;
    if (Array.isArray(type))
      type =
        type.includes('null') && this.chance(0.85)
          ? (type.find((t: string) => t !== 'null') ?? 'null')
          : this.pick(type);
    if (!type) type = s.properties ? 'object' : s.items ? 'array' : undefined;
    switch (type) {
      case 'string':
        return this.string(s);
      case 'integer':
      case 'number':
        return this.number(s, type === 'integer');
      case 'boolean':
        return this.chance(0.5);
      case 'null':
        return null;
      case 'array': {
        // A tuple (zod's z.tuple): one value per prefixItems entry.
        if (s.prefixItems) return s.prefixItems.map((p: Schema) => this.valid(p, depth + 1));
        const min = s.minItems ?? 0;
        const max = Math.min(s.maxItems ?? min + 3, min + (depth > 4 ? 0 : 3));
        return Array.from({ length: this.int(min, max) }, () => this.valid(s.items, depth + 1));
      }
      case 'object': {
        const out: Record<string, unknown> = {};
        const required = new Set<string>(s.required ?? []);
        for (const [k, v] of Object.entries<Schema>(s.properties ?? {})) {
          if (required.has(k) || (depth < 6 && this.chance(0.5))) out[k] = this.valid(v, depth + 1);
        }
        return out;
      }
      default:
        return this.pick([1, 'x', true, null]);
    }
  }

  private string(s: Schema): string {
    if (
      s.example !== undefined &&
      typeof s.example === 'string' &&
      this.chance(0.2) &&
      this.fits(s, s.example)
    )
      return s.example;
    switch (s.format) {
      case 'date-time':
        return new Date(
          Date.UTC(2026, 0, 1) + this.int(-400, 400) * 86_400_000 + this.int(0, 86_399_999),
        ).toISOString();
      case 'email':
        return `ops${this.int(0, 999)}@example.com`;
      case 'uri':
        // A public address: a webhook's target is checked when the channel is registered.
        return `https://8.8.${this.int(0, 255)}.${this.int(1, 254)}/hook/${this.int(0, 99)}`;
      case 'uuid':
        return [8, 4, 4, 4, 12].map((n) => this.chars('0123456789abcdef', n)).join('-');
    }
    if (s.pattern) return this.fromPattern(s);
    const min = s.minLength ?? 0;
    const max = Math.min(s.maxLength ?? min + 24, min + 24);
    return notDotSegment(this.chars(TEXT_CHARS, this.int(min, max)));
  }

  private fromPattern(s: Schema): string {
    switch (s.pattern) {
      case ID_SOURCE:
        return this.knownIds.length && this.chance(0.5)
          ? this.pick(this.knownIds)
          : notDotSegment(this.chars(ID_CHARS, this.int(1, 24)));
      case '^[A-Z]{2}$':
        return this.pick(['NL', 'DE', 'CN', 'RU', 'US', 'TW', 'SG']);
      case '^[A-Z_]{3,64}$':
        return this.pick(['REPLAY', 'SIGNATURE_INVALID', 'MALFORMED', 'ABC_DEF']);
      case '^[^#+]*[^/#+]$':
        return this.pick(['acme/alerts', 'ops', 'a/b/c']);
      case '^\\d{0,15}$':
        return String(this.int(0, 5000));
      case '^\\d{1,18}$':
        return String(this.int(1, 5000));
      case '^[A-Za-z0-9_-]{43}$':
        return this.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-', 43);
    }
    if (typeof s.example === 'string' && new RegExp(s.pattern).test(s.example)) return s.example;
    throw new Error(`schema-gen: no generator for pattern ${s.pattern}: add one`);
  }

  private number(s: Schema, integer: boolean): number {
    let lo =
      s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : 1e-6) : -1000);
    let hi =
      s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : 1e-6) : 1000);
    if (hi - lo > 1e6) hi = lo + 1e6;
    if (lo > hi) lo = hi;
    if (integer) return this.int(Math.ceil(lo), Math.floor(hi));
    const v = lo + this.rnd() * (hi - lo);
    return Math.round(v * 1e4) / 1e4 >= lo && Math.round(v * 1e4) / 1e4 <= hi ? Math.round(v * 1e4) / 1e4 : v;
  }

  private fits(s: Schema, v: string) {
    return (
      (!s.pattern || new RegExp(s.pattern).test(v)) &&
      v.length >= (s.minLength ?? 0) &&
      v.length <= (s.maxLength ?? Infinity)
    );
  }

  chars(alphabet: string, n: number): string {
    const a = [...alphabet];
    return Array.from({ length: n }, () => this.pick(a)).join('');
  }

  /** A value `schema` refuses, with a word on how; undefined when no refusal fits (e.g. `{}` takes anything). */
  invalid(schema: Schema | undefined): { value: unknown; why: string } | undefined {
    const s = this.resolve(schema);
    const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== 'null') : s.type;
    const options: (() => { value: unknown; why: string } | undefined)[] = [];
    if (type === 'object' || s.properties) {
      const req: string[] = s.required ?? [];
      if (req.length)
        options.push(() => {
          const v = this.valid(s) as Record<string, unknown>;
          const k = this.pick(req);
          delete v[k];
          return { value: v, why: `without required ${k}` };
        });
      const props = Object.keys(s.properties ?? {});
      if (props.length)
        options.push(() => {
          const v = this.valid(s) as Record<string, unknown>;
          const k = this.pick(props);
          const bad = this.invalid(s.properties[k]);
          if (!bad) return undefined;
          v[k] = bad.value;
          return { value: v, why: `${k}: ${bad.why}` };
        });
      if (s.additionalProperties === false)
        options.push(() => ({
          value: { ...(this.valid(s) as object), zz_unknown: 1 },
          why: 'an unknown field',
        }));
      options.push(() => ({ value: this.pick([[], 'text', 42]), why: 'not an object' }));
    }
    if (type === 'string') {
      options.push(() => ({
        value: this.pick(NASTY),
        why: 'a NUL, control character, lone surrogate or 5,000 characters',
      }));
      options.push(() => ({ value: this.pick([42, true, null, ['a']]), why: 'not a string' }));
      if (s.enum) options.push(() => ({ value: 'NOT_IN_ENUM', why: 'not one of the enum' }));
      if (s.format === 'date-time')
        options.push(() => ({
          value: this.pick([
            '0000-01-01T00:00:00Z',
            '+275760-09-13T00:00:00Z',
            'NaN',
            '2026-02-31T00:00:00Z',
            '1',
          ]),
          why: 'a time out of range',
        }));
    }
    if (type === 'integer' || type === 'number') {
      options.push(() => ({ value: this.pick(['1', null, true]), why: 'not a number' }));
      if (s.maximum !== undefined)
        options.push(() => ({ value: s.maximum + (type === 'integer' ? 1 : 0.5), why: 'above the maximum' }));
      if (s.minimum !== undefined) options.push(() => ({ value: s.minimum - 1, why: 'below the minimum' }));
      if (type === 'integer') options.push(() => ({ value: 1.5, why: 'fractional' }));
    }
    if (type === 'array') {
      options.push(() => ({ value: 'not-an-array', why: 'not an array' }));
      if (s.minItems) options.push(() => ({ value: [], why: 'fewer items than minItems' }));
    }
    if (!options.length) return undefined;
    for (let i = 0; i < 4; i++) {
      const got = this.pick(options)();
      if (got) return got;
    }
    return undefined;
  }
}

function mergeAll(parts: Schema[]): Schema {
  const out: Schema = { type: 'object', properties: {}, required: [] };
  for (const p of parts) {
    Object.assign(out.properties, p.properties ?? {});
    out.required.push(...(p.required ?? []));
    for (const [k, v] of Object.entries(p)) if (!['properties', 'required'].includes(k)) out[k] = v;
  }
  return out;
}

/**
 * "." and ".." never reach a server in a path: every URL library removes them as dot-segments (RFC 3986 §5.2.4),
 * and no id may be one (src/domain/ids.ts). A generated text that came out as one gets a letter more.
 */
function notDotSegment(s: string): string {
  return /^\.{1,2}$/.test(s) ? `${s}x` : s;
}
