// "." and ".." are not ids (src/domain/ids.ts): no URL can carry them, so every registration refuses them with a
// 422 naming the rule, and nothing is stored. Three dots is an id like any other. Real PostgreSQL, real broker.
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { ID_RULE } from '../../src/domain/ids.ts';
import { EINDHOVEN_TO_AMSTERDAM } from '../helpers/chipwatch.ts';
import { useChipwatch } from '../helpers/stack.ts';

const env = useChipwatch();

beforeAll(async () => {
  const key = generateDeviceKey();
  expect(
    (await env.cw.api('POST', '/v1/devices', { body: { id: 'trk-ids', publicKeyJwk: key.publicJwk } }))
      .status,
  ).toBe(201);
});

const square = [
  [
    [4, 52],
    [5, 52],
    [5, 53],
    [4, 53],
    [4, 52],
  ],
];

/** A registration body with the given id, valid otherwise. */
const bodies: Record<string, (id: string) => { path: string; role?: 'admin' | 'logistics'; body: unknown }> =
  {
    device: (id) => ({ path: '/v1/devices', body: { id, publicKeyJwk: generateDeviceKey().publicJwk } }),
    'device (batch)': (id) => ({
      path: '/v1/devices/batch',
      body: { devices: [{ id, publicKeyJwk: generateDeviceKey().publicJwk }] },
    }),
    site: (id) => ({
      path: '/v1/sites',
      body: {
        id,
        name: 'DC',
        lat: 52.3,
        lon: 4.94,
        radiusKm: 3,
        publicKeyJwk: generateDeviceKey().publicJwk,
      },
    }),
    landmark: (id) => ({ path: '/v1/landmarks', body: { id, name: 'Amsterdam IX', lat: 52.35, lon: 4.95 } }),
    channel: (id) => ({ path: '/v1/channels', body: { type: 'mqtt', id } }),
    zone: (id) => ({
      path: '/v1/zones',
      body: { id, tier: 'watch', geometry: { type: 'Polygon', coordinates: square } },
    }),
    shipment: (id) => ({
      path: '/v1/shipments',
      role: 'logistics',
      body: {
        id,
        deviceId: 'trk-ids',
        mode: 'road',
        ...EINDHOVEN_TO_AMSTERDAM,
      },
    }),
    'shipment deviceId': () => ({
      path: '/v1/shipments',
      role: 'logistics',
      body: { ...(bodies.shipment!('shp-ids').body as object), deviceId: '..' },
    }),
  };

describe('a dot-only id', () => {
  it.each(Object.keys(bodies).flatMap((what) => [[what, '..'] as const, [what, '.'] as const]))(
    '%s "%s" is a 422 VALIDATION_FAILED naming the rule',
    async (what, id) => {
      const { path, role, body } = bodies[what]!(id);
      const res = await env.cw.api('POST', path, { body, ...(role ? { role } : {}) });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.message).toMatch(
        /(^|\.)(id|deviceId): ids are 1–128 of .*, and not "\." or "\.\."/,
      );
      expect(res.body.error.message).toContain(ID_RULE);
    },
  );

  it('"..." is an id like any other: registered, and found by its URL', async () => {
    const res = await env.cw.api('POST', '/v1/landmarks', {
      body: { id: '...', name: 'Three dots', lat: 52.35, lon: 4.95 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const listed = await env.cw.api('GET', '/v1/landmarks', { role: 'compliance' });
    expect(listed.body.items.map((l: { id: string }) => l.id)).toContain('...');
  });

  it('the OpenAPI document states the grammar: the same pattern for every registered id', async () => {
    const doc = (await env.cw.api('GET', '/openapi.json')).body;
    const text = JSON.stringify(doc);
    expect(text).not.toContain('"^[A-Za-z0-9._:-]{1,128}$"');
    expect(doc.components.schemas.ShipmentRegistration.properties.id.pattern).toBe(
      '^(?!\\.{1,2}$)[A-Za-z0-9._:-]{1,128}$',
    );
  });
});
