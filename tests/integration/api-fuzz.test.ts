// OpenAPI-driven fuzzing: every operation of /openapi.json, every role, requests built from the operation's own
// schemas — valid ones and broken ones (a field missing, out of range, of the wrong type, a NUL, a forged cursor) —
// against chipwatch on a real PostgreSQL. It fails on any 5xx, any status the operation does not document, any
// JSON body that does not match its documented schema (ajv), and any spec-valid request refused for a schema reason
// (400/422). Seeded and bounded: FUZZ_SEED reproduces a run, FUZZ_REQUESTS sets its size (default 3,000).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { ROLES, type Role } from '../../src/auth.ts';
import { startAedes, type TestBroker } from '../helpers/broker.ts';
import {
  EINDHOVEN_TO_AMSTERDAM,
  startTestChipwatch,
  TEST_SECRET,
  type TestChipwatch,
} from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { SchemaGen, seeded } from '../helpers/schema-gen.ts';

// ajv-formats is CommonJS: its default export arrives as the module object under some loaders.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => void;

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);

/**
 * Refusals of spec-valid requests that no schema can express (a rule across fields or rows), each with why it is
 * fine. Anything else a spec-valid request gets as 400/422 fails the test.
 */
const SEMANTIC_REFUSALS: { op: RegExp; message: RegExp; why: string }[] = [
  { op: /./, message: /^from must be before to$/, why: 'from/to order: a rule across two parameters' },
  { op: /./, message: /^from…to spans [\d.]+ days/, why: 'range length: a rule across two parameters' },
  {
    op: /./,
    message: /^cursor is not one this API issued/,
    why: 'a cursor is opaque: the spec cannot say which strings the server issued',
  },
  {
    op: /^POST \/v1\/shipments$/,
    message: /: no registered device |: no site .*register it/,
    why: 'names a row that does not exist',
  },
  { op: /^POST \/v1\/shipments$/, message: /^no sea route found/, why: 'no sea route joins the two points' },
  {
    op: /^POST \/v1\/shipments$/,
    message: /^route: a road shipment needs its route$/,
    why: 'a rule across mode and route',
  },
  {
    op: /^PATCH \/v1\/channels\/\{id\}$/,
    message: /only a \w+ channel has it; this one is/,
    why: 'depends on the stored channel type',
  },
  {
    op: /^POST \/v1\/zones$/,
    message: /a linear ring is closed/,
    why: 'GeoJSON ring closure: not expressible in JSON Schema',
  },
  {
    op: /^(POST|PATCH) \/v1\/licences/,
    message: /^validTo: must be after validFrom$/,
    why: 'validity order: a rule across two fields',
  },
  {
    op: /^(POST|PATCH) \/v1\/shipments/,
    message: /^licenceIds: no licence /,
    why: 'names a licence that does not exist',
  },
  {
    op: /^POST \/v1\/(devices|devices\/batch|sites|landmarks)$/,
    message: /publicKeyJwk|not a valid|key/i,
    why: "a JWK's x (and y) must be a point on its curve, not of small order: not expressible in JSON Schema",
  },
];

/**
 * Findings in files other helpers are changing now (issue 15), tolerated here so the suite stays green while they
 * land, and printed on every run. Remove an entry once its fix is in: the test then guards it.
 */
const KNOWN_OPEN: { op: RegExp; message: RegExp; finding: string }[] = [];

let broker: TestBroker;
let cw: TestChipwatch;
let doc: any;
const knownIds = ['trk-fz-1', 'shp-fz-1', 'ch-fz-1', 'GPU-FZ-1', 'dc-fz-1'];

beforeAll(async () => {
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
    RATE_LIMIT_PER_MIN: '10000000',
    RATE_LIMIT_BURST: '10000000',
    DISPATCHER: 'off',
  });
  doc = (await cw.api('GET', '/openapi.json', { role: null })).body;
  // A few real rows, so generated requests reach more than 404.
  const key = generateDeviceKey();
  await cw.api('POST', '/v1/devices', { body: { id: 'trk-fz-1', publicKeyJwk: key.publicJwk } });
  await cw.api('POST', '/v1/shipments', {
    body: {
      id: 'shp-fz-1',
      deviceId: 'trk-fz-1',
      mode: 'road',
      chips: ['GPU-FZ-1'],
      ...EINDHOVEN_TO_AMSTERDAM,
    },
  });
  await cw.api('POST', '/v1/channels', { body: { type: 'mqtt', id: 'ch-fz-1' } });
});
afterAll(async () => {
  await cw?.stop();
  await broker?.stop();
});

type AuthMode = 'role' | 'wrong-role' | 'none' | 'bad-token';
interface Op {
  method: string;
  path: string;
  op: any;
}

it(`answers every generated request as documented (${REQUESTS} requests, seed from FUZZ_SEED or random)`, async () => {
  console.log(`api-fuzz: seed ${SEED} — rerun with FUZZ_SEED=${SEED} to reproduce; ${REQUESTS} requests`);
  const rnd = seeded(SEED);
  const gen = new SchemaGen(doc, rnd, knownIds);
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'cw', components: doc.components });
  const validators = new Map<object, ReturnType<typeof ajv.compile>>();
  const validate = (schema: object, value: unknown) => {
    let v = validators.get(schema);
    if (!v) {
      v = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"cw#/components/')));
      validators.set(schema, v);
    }
    return v(value) ? undefined : ajv.errorsText(v.errors);
  };

  const ops: Op[] = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ms]) =>
    Object.entries(ms).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
  const secret = new TextEncoder().encode(TEST_SECRET);
  const tokens = Object.fromEntries(
    await Promise.all(ROLES.map(async (r) => [r, await cw.token(r)])),
  ) as Record<Role, string>;
  const badTokens = [
    'garbage',
    await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('old')
      .setIssuer('chipwatch')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(secret),
    await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('forever')
      .setIssuer('chipwatch')
      .setIssuedAt()
      .setExpirationTime('3650d')
      .sign(secret),
  ];

  const failures = new Map<string, string>();
  const fail = (key: string, line: string) => {
    if (!failures.has(key)) failures.set(key, line);
  };
  const knownSeen = new Set<string>();
  const tally = { sent: 0, valid: 0, invalid: 0, byStatus: {} as Record<number, number>, semantic: 0 };

  for (let i = 0; i < REQUESTS; i++) {
    const { method, path, op } = ops[i % ops.length]!;
    const roles: Role[] = op['x-roles'] ?? [];
    const isPublic = !op.security?.length;
    const others = ROLES.filter((r) => !roles.includes(r));
    const auth: AuthMode = isPublic
      ? 'none'
      : gen.pick<AuthMode>([
          'role',
          'role',
          'role',
          'role',
          'role',
          'role',
          ...(others.length ? (['wrong-role'] as const) : []),
          'none',
          'bad-token',
        ]);
    const mode: 'valid' | 'invalid' = gen.chance(0.5) ? 'valid' : 'invalid';
    const req = buildRequest(gen, path, op, mode);
    if (!req) continue;
    const headers: Record<string, string> = { ...req.headers };
    if (auth === 'role')
      headers.authorization = `Bearer ${tokens[gen.pick<Role>(roles.length ? roles : ['admin'])]}`;
    if (auth === 'wrong-role') headers.authorization = `Bearer ${tokens[gen.pick(others)]}`;
    if (auth === 'bad-token') headers.authorization = `Bearer ${gen.pick(badTokens)}`;
    if (req.body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
    const where = `${method} ${req.url} [${auth}, ${mode}${req.why ? `: ${req.why}` : ''}]${req.body === undefined ? '' : ` body ${req.body.slice(0, 400)}`}`;

    let res: Response;
    try {
      res = await cw.app!.request(req.url, { method, headers, body: req.body });
    } catch (err) {
      fail(`${method} ${path} threw`, `${where} → threw ${(err as Error).message}`);
      continue;
    }
    tally.sent++;
    tally[mode]++;
    tally.byStatus[res.status] = (tally.byStatus[res.status] ?? 0) + 1;
    const media = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const text = media === 'text/event-stream' ? await firstChunk(res) : await res.text();
    const brief = text.slice(0, 300).replace(/\s+/g, ' ');
    const documented = op.responses?.[String(res.status)] ?? op.responses?.default;

    if (res.status >= 500) fail(`${method} ${path} ${res.status}`, `${where} → ${res.status} ${brief}`);
    if (!documented) {
      fail(
        `${method} ${path} undocumented ${res.status}`,
        `${where} → ${res.status}, not documented: ${brief}`,
      );
      continue;
    }
    const expectStatus =
      auth === 'wrong-role'
        ? 403
        : auth === 'none' && !isPublic
          ? 401
          : auth === 'bad-token'
            ? 401
            : undefined;
    if (expectStatus && res.status !== expectStatus)
      fail(`${method} ${path} auth ${auth}`, `${where} → ${res.status}, expected ${expectStatus}: ${brief}`);

    const content = documented.content as Record<string, { schema?: object }> | undefined;
    if (content && res.status !== 204) {
      const doc = content[media];
      if (!doc) {
        fail(
          `${method} ${path} ${res.status} media`,
          `${where} → ${res.status} as ${media}, documented ${Object.keys(content).join(', ')}`,
        );
      } else if (media === 'application/json' && doc.schema) {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          fail(`${method} ${path} ${res.status} json`, `${where} → ${res.status} not JSON: ${brief}`);
          continue;
        }
        const problem = validate(doc.schema, body);
        if (problem)
          fail(
            `${method} ${path} ${res.status} schema ${problem}`,
            `${where} → ${res.status} body does not match its schema: ${problem}; ${brief}`,
          );
      }
    }

    if (mode === 'valid' && auth === 'role' && (res.status === 400 || res.status === 422)) {
      const message = safeMessage(text);
      const known = SEMANTIC_REFUSALS.find((s) => s.op.test(`${method} ${path}`) && s.message.test(message));
      const open = KNOWN_OPEN.find((k) => k.op.test(`${method} ${path}`) && k.message.test(message));
      if (known) tally.semantic++;
      else if (open) knownSeen.add(open.finding);
      else
        fail(
          `${method} ${path} refused valid ${message.replace(/\d+/g, 'N')}`,
          `${where} → ${res.status} for a spec-valid request: ${brief}`,
        );
    }
  }

  console.log(
    `api-fuzz: ${tally.sent} requests over ${ops.length} operations (${tally.valid} valid, ${tally.invalid} invalid); statuses ${JSON.stringify(tally.byStatus)}; ${tally.semantic} valid requests refused by a rule across fields`,
  );
  for (const f of knownSeen) console.warn(`api-fuzz: KNOWN OPEN (tolerated, fix pending): ${f}`);
  const lines = [...failures.values()];
  expect(lines, `seed ${SEED}: ${lines.length} distinct failures:\n${lines.slice(0, 40).join('\n')}`).toEqual(
    [],
  );
});

interface BuiltRequest {
  url: string;
  headers: Record<string, string>;
  body?: string;
  contentType?: string;
  why?: string;
}

/** A request for `op`: valid, or with one part broken (the `why`). */
function buildRequest(
  gen: SchemaGen,
  path: string,
  op: any,
  mode: 'valid' | 'invalid',
): BuiltRequest | undefined {
  const params: any[] = op.parameters ?? [];
  const bodySchema = op.requestBody?.content?.['application/json']?.schema;
  const targets = [...params.map((p) => `param:${p.name}`), ...(bodySchema ? ['body', 'raw-body'] : [])];
  const broken = mode === 'invalid' && targets.length ? gen.pick(targets) : undefined;
  let why: string | undefined;
  const values: Record<string, unknown> = {};
  for (const p of params) {
    if (broken === `param:${p.name}`) {
      const bad = gen.invalid(p.schema) ?? { value: '\u0000', why: 'a NUL' };
      values[p.name] = bad.value;
      why = `${p.in} ${p.name}: ${bad.why}`;
    } else if (p.required || p.in === 'path' || gen.chance(0.4)) {
      // A query string has no null: a nullable parameter is left out instead.
      const v = gen.valid(p.schema);
      if (v !== null) values[p.name] = v;
      else if (p.required) return undefined;
    }
  }
  let url = path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  for (const p of params) {
    if (!(p.name in values)) continue;
    const text = asText(values[p.name]);
    if (p.in === 'path') {
      let enc: string;
      try {
        enc = encodeURIComponent(text);
      } catch {
        return undefined; // a lone surrogate cannot be put in a URL
      }
      url = url.replace(`{${p.name}}`, enc || '%20');
    } else if (p.in === 'query') {
      if (
        /[\ud800-\udfff]/.test(text) &&
        !/^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/.test(text)
      )
        return undefined; // a lone surrogate cannot be put in a URL
      query.set(p.name, text);
    } else if (p.in === 'header') {
      if (/[^\t\x20-\x7e]/.test(text)) return undefined; // not sendable as a header at all
      headers[p.name] = text;
    }
  }
  const qs = query.toString();
  if (qs) url += `?${qs}`;
  let body: string | undefined;
  let contentType: string | undefined;
  if (bodySchema) {
    if (broken === 'body') {
      const bad = gen.invalid(bodySchema) ?? { value: 'not an object', why: 'not an object' };
      body = JSON.stringify(bad.value);
      why = `body ${bad.why}`;
    } else if (broken === 'raw-body') {
      const raw = gen.pick([
        ['{"unterminated": ', 'application/json', 'malformed JSON'],
        ['id=1', 'application/x-www-form-urlencoded', 'not JSON'],
        ['', 'application/json', 'empty'],
      ] as const);
      [body, contentType] = [raw[0], raw[1]];
      why = `body ${raw[2]}`;
    } else {
      body = JSON.stringify(gen.valid(bodySchema));
    }
  }
  return { url, headers, body, contentType, why };
}

function asText(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function safeMessage(text: string): string {
  try {
    return String(JSON.parse(text)?.error?.message ?? '');
  } catch {
    return '';
  }
}

/** The start of an event stream, then the stream closed (it would never end). */
async function firstChunk(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const timer = setTimeout(() => void reader.cancel(), 2000);
  try {
    const { value } = await reader.read();
    return value ? new TextDecoder().decode(value) : '';
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}
