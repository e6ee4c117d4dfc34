// The API's own request schemas, from GET /openapi.json (generated from the zod schemas the server validates with),
// checked in the browser before a form is sent: the same rules, one source. A JSON Schema subset: type, required,
// properties, enum, const, minimum/maximum (exclusive too), minLength/maxLength, pattern, minItems/maxItems, items,
// anyOf/oneOf, $ref. The server checks again and has the last word; its messages name the field too.

let doc;

/** The OpenAPI document, fetched once (it is public and the same for every user). */
export async function apiSchemas() {
  doc ??= fetch('/openapi.json').then((r) => {
    if (!r.ok) throw new Error(`the API description did not load (HTTP ${r.status})`);
    return r.json();
  });
  return (await doc).components?.schemas ?? {};
}

const typeOf = (v) =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

/** Problems of `value` against `schema` as [{ path: 'origin.lat', message }]; empty when valid. */
export function validate(schema, value, schemas, path = '') {
  if (!schema) return [];
  if (schema.$ref) return validate(schemas[schema.$ref.split('/').at(-1)], value, schemas, path);
  const at = (message) => [{ path, message }];
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    const tries = alternatives.map((s) => validate(s, value, schemas, path));
    if (tries.some((t) => t.length === 0)) return [];
    // The alternative that came closest explains best what is wrong.
    return tries.sort((x, y) => x.length - y.length)[0];
  }
  const types = schema.type ? [schema.type].flat() : null;
  if (types) {
    const t = typeOf(value);
    const ok = types.includes(t) || (t === 'integer' && types.includes('number'));
    if (!ok)
      return at(types.includes('integer') ? 'must be a whole number' : `must be ${types.join(' or ')}`);
  }
  if (schema.const !== undefined && value !== schema.const) return at(`must be ${schema.const}`);
  if (schema.enum && !schema.enum.includes(value)) return at(`must be one of ${schema.enum.join(', ')}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      return at(`must be at least ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      return at(`must be at most ${schema.maximum}`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum)
      return at(`must be more than ${schema.exclusiveMinimum}`);
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum)
      return at(`must be less than ${schema.exclusiveMaximum}`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      return at(schema.minLength === 1 ? 'is required' : `needs at least ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      return at(`may have at most ${schema.maxLength} characters`);
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value))
      return at(`has the wrong form (${schema.pattern})`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      return at(`needs at least ${schema.minItems}`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      return at(`may have at most ${schema.maxItems}`);
    const prefix = schema.prefixItems ?? [];
    return value.flatMap((v, i) => validate(prefix[i] ?? schema.items, v, schemas, `${path}[${i}]`));
  }
  if (typeOf(value) === 'object') {
    const problems = (schema.required ?? [])
      .filter((k) => value[k] === undefined)
      .map((k) => ({ path: path ? `${path}.${k}` : k, message: 'is required' }));
    for (const [k, v] of Object.entries(value)) {
      const sub = schema.properties?.[k];
      if (sub) problems.push(...validate(sub, v, schemas, path ? `${path}.${k}` : k));
      else if (schema.additionalProperties === false) problems.push({ path: k, message: 'is not allowed' });
    }
    return problems;
  }
  return [];
}

/** The field a server message names ("origin.lat: Too big…"), or null. */
export function pathOfMessage(message) {
  return /^([A-Za-z0-9_.[\]]+):/.exec(message)?.[1] ?? null;
}
