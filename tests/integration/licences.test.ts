// Licences and tighten-only policy end to end, real PostgreSQL and real HTTP (and MQTT where fixes matter): a
// logistics token cannot weaken a shipment's checks (403 naming the field), compliance can and the audit trail and
// the evidence bundle say who did it, and a licence that expires or is revoked stops covering at once.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { Tracker } from '../../device-sim/tracker.ts';
import type { Fix } from '../../src/checks/types.ts';
import { checkPolicyChain, policyProblems } from '../../src/evidence/policy-audit.ts';
import { verifyBundle } from '../../src/evidence/verify.ts';
import { loadPolicy } from '../../src/geo/policy.ts';
import { startAedes, type TestBroker } from '../helpers/broker.ts';
import { startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

let broker: TestBroker;
let cw: TestChipwatch;
const trackers: Tracker[] = [];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const POLICY_RESTRICTED = [...loadPolicy().restricted].sort();

beforeAll(async () => {
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
  });
});
afterAll(async () => {
  for (const t of trackers) await t.close();
  await cw?.stop();
  await broker?.stop();
});

const KAOHSIUNG = { name: 'Kaohsiung', lat: 22.61, lon: 120.27, radiusKm: 25 };
const ROTTERDAM = { name: 'Rotterdam', lat: 51.9, lon: 4.4, radiusKm: 30 };
// Kaohsiung → Singapore → Bab-el-Mandeb → Suez → Rotterdam: Beijing lies over 1,500 km off it.
const SEA_ROUTE = {
  type: 'LineString',
  coordinates: [
    [120.27, 22.61],
    [103.8, 1.2],
    [43.3, 12.6],
    [32.5, 30.0],
    [4.4, 51.9],
  ],
};
const BEIJING = { lat: 39.9, lon: 116.4 };
const seaShipment = (id: string, deviceId = 'trk-weak') => ({
  id,
  deviceId,
  mode: 'sea',
  origin: KAOHSIUNG,
  destination: ROTTERDAM,
  route: SEA_ROUTE,
  reportIntervalS: 3600,
});

/** Registers the tracker (admin) and returns a function sending fixes as it would, waiting for the acks. */
async function tracker(deviceId: string) {
  const key = generateDeviceKey();
  const res = await cw.api('POST', '/v1/devices', { body: { id: deviceId, publicKeyJwk: key.publicJwk } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  let t: Tracker | undefined;
  return async (fixes: Fix[]) => {
    if (!t) {
      // The MQTT password from the registration answer, when the broker asks for one (the user name is the id).
      const password = res.body.mqttPassword as string | undefined;
      t = new Tracker({
        deviceId,
        key,
        mqttUrl: broker.url,
        ackKey: cw.ackKey,
        ...(password ? { mqttPassword: password } : { clientId: `sim-${deviceId}` }),
      });
      trackers.push(t);
      await t.waitConnected();
    }
    t.send(fixes);
    expect(await t.waitAllAcked(60_000)).toBe(true);
  };
}

const alertsOf = async (shipmentId: string) =>
  (await cw.api('GET', `/v1/alerts?shipmentId=${shipmentId}`, { role: 'compliance' })).body.items as {
    type: string;
    details: Record<string, unknown>;
  }[];
const entered = async (shipmentId: string, country: string) =>
  (await alertsOf(shipmentId)).filter(
    (a) => a.type === 'RESTRICTED_ZONE_ENTERED' && a.details.country === country,
  );

async function grant(id: string, countries: string[], validFrom: number, validTo: number) {
  const res = await cw.api('POST', '/v1/licences', {
    role: 'compliance',
    body: {
      id,
      number: `BIS-${id}`,
      countries,
      items: ['3A090', '4A090'],
      endUser: 'Example Compute Ltd',
      validFrom: new Date(validFrom).toISOString(),
      validTo: new Date(validTo).toISOString(),
      notes: 'granted for the test',
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('logistics registers against the policy as it stands', () => {
  beforeAll(async () => {
    await grant('lic-cn-live', ['CN'], Date.now() - DAY, Date.now() + 30 * DAY);
    await grant('lic-nl-expired', ['NL'], Date.now() - 30 * DAY, Date.now() - DAY);
    await grant('lic-nl-revoked', ['NL'], Date.now() - DAY, Date.now() + 30 * DAY);
    const revoked = await cw.api('POST', '/v1/licences/lic-nl-revoked/revoke', {
      role: 'compliance',
      body: { reason: 'end user on the Entity List' },
    });
    expect(revoked.body.status).toBe('revoked');
    await tracker('trk-weak');
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['restrictedCountries leaving out CN', { restrictedCountries: ['RU', 'IR'] }, /restrictedCountries.*CN/],
    ['restrictedCountries empty', { restrictedCountries: [] }, /restrictedCountries/],
    ['a free-text CN licence', { licenses: [{ country: 'CN', number: 'X-1' }] }, /licenses/],
    ['an unknown licence id', { licenceIds: ['lic-nope'] }, /licenceIds: no licence lic-nope/],
    [
      'a revoked licence',
      { licenceIds: ['lic-nl-revoked'] },
      /licenceIds: licence lic-nl-revoked is revoked/,
    ],
    ['an expired licence', { licenceIds: ['lic-nl-expired'] }, /licenceIds: licence lic-nl-expired expired/],
    [
      'a licence not listing the destination country',
      { licenceIds: ['lic-cn-live'] },
      /licenceIds: licence lic-cn-live does not list the destination country \(NL\)/,
    ],
    ['a wider corridor', { corridorKm: 500 }, /corridorKm/],
    ['a higher maxSpeedKmh', { params: { maxSpeedKmh: 5000 } }, /params\.maxSpeedKmh/],
    ['more gap intervals', { params: { gapIntervals: 50 } }, /params\.gapIntervals/],
    ['a smaller stop radius (lower is looser)', { params: { stopRadiusKm: 0.1 } }, /params\.stopRadiusKm/],
    [
      'a shorter diversion horizon',
      { params: { diversionHorizonHours: 1 } },
      /params\.diversionHorizonHours/,
    ],
    ['a report interval of a day', { reportIntervalS: 86_400 }, /reportIntervalS/],
    ['a huge destination radius', { destination: { ...ROTTERDAM, radiusKm: 1500 } }, /destination\.radiusKm/],
  ];
  it.each(cases)(
    'refuses %s with 403 FORBIDDEN naming the field, and registers nothing',
    async (_, extra, field) => {
      const res = await cw.api('POST', '/v1/shipments', {
        role: 'logistics',
        body: { ...seaShipment('shp-weak'), ...extra },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
      expect(res.body.error.message).toMatch(field);
      expect((await cw.api('GET', '/v1/shipments/shp-weak', { role: 'logistics' })).status).toBe(404);
    },
  );

  it('accepts a logistics registration that only tightens, and audits it', async () => {
    const res = await cw.api('POST', '/v1/shipments', {
      role: 'logistics',
      body: {
        ...seaShipment('shp-weak'),
        restrictedCountries: [...POLICY_RESTRICTED, 'PK'],
        corridorKm: 20,
        params: { maxSpeedKmh: 40, gapIntervals: 2 },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const policy = (await cw.api('GET', '/v1/shipments/shp-weak/policy', { role: 'logistics' })).body;
    expect(policy.audit).toHaveLength(1);
    expect(policy.audit[0]).toMatchObject({
      action: 'registered',
      actor: 'test-logistics',
      role: 'logistics',
    });
    expect(policy.audit[0].details.weakens).toEqual([]);
  });
});

describe('compliance may weaken a check, audited; logistics may only tighten', () => {
  it('logistics cannot PATCH a shipment so Beijing fixes stop alerting; compliance can, and the audit trail and bundle show who', {
    timeout: 120_000,
  }, async () => {
    const sendControl = await tracker('trk-control');
    const send = await tracker('trk-cn');
    for (const id of ['control', 'cn']) {
      const res = await cw.api('POST', '/v1/shipments', {
        role: 'logistics',
        body: seaShipment(`shp-${id}`, `trk-${id}`),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const patch = (role: 'logistics' | 'compliance', body: Record<string, unknown>) =>
      cw.api('PATCH', '/v1/shipments/shp-cn', { role, body });
    const withoutCn = POLICY_RESTRICTED.filter((c) => c !== 'CN');

    for (const [body, field] of [
      [{ restrictedCountries: withoutCn }, /restrictedCountries.*CN/],
      [{ params: { maxSpeedKmh: 5000 } }, /params\.maxSpeedKmh/],
      [{ corridorKm: 400 }, /corridorKm/],
      [{ licenses: [{ country: 'CN', number: 'X-1' }] }, /licenses/],
    ] as const) {
      const res = await patch('logistics', { ...body, reason: 'trying' });
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
      expect(res.body.error.message).toMatch(field);
    }
    expect((await patch('compliance', { corridorKm: 30 })).status).toBe(422); // no reason
    const tightened = await patch('logistics', {
      corridorKm: 30,
      reason: 'narrow lane agreed with the carrier',
    });
    expect(tightened.status, JSON.stringify(tightened.body)).toBe(200);
    expect(tightened.body.corridorKm).toBe(30);
    // Having tightened, logistics cannot widen it back: only compliance may loosen.
    expect((await patch('logistics', { corridorKm: 50, reason: 'undo' })).status).toBe(403);

    await grant('lic-cn', ['CN'], Date.now() - DAY, Date.now() + 30 * DAY);
    const weakened = await patch('compliance', {
      restrictedCountries: withoutCn,
      licenceIds: ['lic-cn'],
      reason: 'BIS licence covers this end user in Beijing',
    });
    expect(weakened.status, JSON.stringify(weakened.body)).toBe(200);
    expect(weakened.body.licenceIds).toEqual(['lic-cn']);

    const fix = (hoursAgo: number, p = BEIJING): Fix => ({ ts: Date.now() - hoursAgo * HOUR, ...p });
    await sendControl([fix(3)]);
    await send([fix(3)]);
    expect(await entered('shp-control', 'CN')).toHaveLength(1);
    expect(await entered('shp-cn', 'CN')).toEqual([]);

    const policy = (await cw.api('GET', '/v1/shipments/shp-cn/policy', { role: 'compliance' })).body;
    expect(policy.audit.map((a: { action: string; actor: string }) => `${a.action} by ${a.actor}`)).toEqual([
      'registered by test-logistics',
      'policy_changed by test-logistics',
      'policy_changed by test-compliance',
      'cited by test-compliance',
    ]);
    const change = policy.audit[2];
    expect(change.reason).toBe('BIS licence covers this end user in Beijing');
    expect(change.details.weakens).toEqual(['restrictedCountries', 'licenceIds']);
    expect(change.details.before.restrictedCountries).toBeNull();
    expect(change.details.after.restrictedCountries).not.toContain('CN');

    const bundle = (await cw.api('GET', '/v1/shipments/shp-cn/evidence', { role: 'compliance' })).body;
    expect(bundle.policy.file).toMatchObject({ checkedAt: loadPolicy().checkedAt });
    expect(bundle.policy.file.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(bundle.policy.overrides.restrictedCountries).toEqual(withoutCn);
    expect(bundle.policy.audit).toEqual(policy.audit);
    expect(checkPolicyChain(bundle.policy.audit)).toEqual({ ok: true });
    const [licence] = bundle.policy.licences;
    expect(licence).toMatchObject({
      id: 'lic-cn',
      countries: ['CN'],
      grantedBy: 'test-compliance',
      citedBy: 'test-compliance',
    });
    expect(licence.audit.map((a: { action: string }) => a.action)).toEqual(['granted', 'cited']);
    expect(checkPolicyChain(licence.audit)).toEqual({ ok: true });
    expect(policyProblems(bundle.policy)).toEqual([]);
    // The verifier accepts the section (the digest and seal cover it); a forged audit row breaks its chain.
    const key = (await cw.api('GET', '/v1/evidence/key', { role: 'compliance' })).body;
    expect(verifyBundle(bundle, { pinnedKey: key.fingerprint }).verdict).toBe('VERIFIED');
    const forged = structuredClone(bundle.policy);
    forged.audit[2].actor = 'test-logistics';
    expect(policyProblems(forged)).toEqual([
      'policy: shipment audit row 2: its content does not match its hash',
    ]);
    const report = verifyBundle({ ...bundle, policy: forged }, { pinnedKey: key.fingerprint });
    expect(report.verdict).toBe('FAILED');
    expect(report.problems).toContain('policy: shipment audit row 2: its content does not match its hash');

    // Revoked: it covers nothing from the next fix on. CN is licence-required for this shipment now (compliance left
    // it out of the restricted list), and Beijing lies far off the corridor: the entry alerts again.
    const revoked = await cw.api('POST', '/v1/licences/lic-cn/revoke', {
      role: 'compliance',
      body: { reason: 'licence withdrawn by BIS' },
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.audit.map((a: { action: string }) => a.action)).toEqual([
      'granted',
      'cited',
      'revoked',
    ]);
    await send([fix(2, { lat: 39.95, lon: 116.45 })]);
    expect(await entered('shp-cn', 'CN')).toHaveLength(1);
  });

  it('keeps the audit append-only: the database refuses to change or delete a row', async () => {
    await expect(cw.sql("UPDATE policy_audit SET actor = 'someone else'")).rejects.toThrow(/append-only/);
    await expect(cw.sql('DELETE FROM policy_audit')).rejects.toThrow(/append-only/);
  });
});

describe('licences', () => {
  it('an expired licence stops covering its country at once: the next fix inside it alerts', {
    timeout: 120_000,
  }, async () => {
    await grant('lic-kz', ['KZ'], Date.now() - DAY, Date.now() + 30 * DAY);
    const send = await tracker('trk-kz');
    // Frankfurt → Almaty by air, citing a licence for Kazakhstan, from a logistics token (a granted, live licence
    // that lists the destination country is not a weakening).
    const res = await cw.api('POST', '/v1/shipments', {
      role: 'logistics',
      body: {
        id: 'shp-kz',
        deviceId: 'trk-kz',
        mode: 'air',
        origin: { name: 'Frankfurt', lat: 50.03, lon: 8.57, radiusKm: 20 },
        destination: { name: 'Almaty', lat: 43.35, lon: 77.04, radiusKm: 20 },
        route: {
          type: 'LineString',
          coordinates: [
            [8.57, 50.03],
            [77.04, 43.35],
          ],
        },
        reportIntervalS: 3600,
        licenceIds: ['lic-kz'],
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    // Near Aktau, on the ground and some 500 km south of the corridor: Kazakhstan, licence-required, off-corridor.
    const aktau = (hoursAgo: number, dLat = 0): Fix => ({
      ts: Date.now() - hoursAgo * HOUR,
      lat: 43.75 + dLat,
      lon: 51.5,
      speedKmh: 0,
    });
    await send([aktau(4)]);
    expect(await entered('shp-kz', 'KZ')).toEqual([]);

    const expired = await cw.api('PATCH', '/v1/licences/lic-kz', {
      role: 'compliance',
      body: { validTo: new Date(Date.now() - 60_000).toISOString(), reason: 'licence ended early' },
    });
    expect(expired.status, JSON.stringify(expired.body)).toBe(200);
    expect(expired.body.status).toBe('expired');
    expect(expired.body.citedBy).toEqual(['shp-kz']);
    const change = expired.body.audit.at(-1);
    expect(change).toMatchObject({
      action: 'changed',
      actor: 'test-compliance',
      reason: 'licence ended early',
    });
    expect(Object.keys(change.details.after)).toEqual(['validTo']);

    await send([aktau(3, 0.01)]);
    const alerts = await entered('shp-kz', 'KZ');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details.tier).toBe('licenseRequired');
  });

  it('lets logistics read licences but not grant, change or revoke them; refuses changes without a reason', async () => {
    await grant('lic-read', ['AE'], Date.now() - DAY, Date.now() + DAY);
    const list = await cw.api('GET', '/v1/licences?country=AE', { role: 'logistics' });
    expect(list.status).toBe(200);
    expect(list.body.items.map((l: { id: string }) => l.id)).toEqual(['lic-read']);
    expect((await cw.api('GET', '/v1/licences/lic-read', { role: 'logistics' })).body.status).toBe('active');
    const forbidden = [
      await cw.api('POST', '/v1/licences', { role: 'logistics', body: { id: 'lic-x' } }),
      await cw.api('PATCH', '/v1/licences/lic-read', {
        role: 'logistics',
        body: { notes: 'x', reason: 'y' },
      }),
      await cw.api('POST', '/v1/licences/lic-read/revoke', { role: 'logistics', body: { reason: 'y' } }),
    ];
    for (const res of forbidden) expect(res.body.error?.code).toBe('FORBIDDEN');
    const noReason = await cw.api('PATCH', '/v1/licences/lic-read', {
      role: 'compliance',
      body: { notes: 'x' },
    });
    expect(noReason.status).toBe(422);
    expect(noReason.body.error.code).toBe('VALIDATION_FAILED');
    const backwards = await cw.api('PATCH', '/v1/licences/lic-read', {
      role: 'compliance',
      body: { validTo: '2000-01-01T00:00:00Z', reason: 'typo' },
    });
    expect(backwards.status).toBe(422);
    expect(backwards.body.error.message).toMatch(/validTo/);
    const again = await cw.api('POST', '/v1/licences', {
      role: 'compliance',
      body: {
        id: 'lic-read',
        number: 'n',
        countries: ['AE'],
        endUser: 'e',
        validFrom: '2026-01-01T00:00:00Z',
        validTo: '2027-01-01T00:00:00Z',
      },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
  });
});

describe('small-order Ed25519 keys', () => {
  const identity = Buffer.from(`01${'00'.repeat(31)}`, 'hex').toString('base64url');
  it('refuses a degenerate device key at registration with 422', async () => {
    const res = await cw.api('POST', '/v1/devices', {
      body: { id: 'trk-weak-key', publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: identity, kid: 'k1' } },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toMatch(/small-order/);
  });
  it('refuses a degenerate site key at registration with 422', async () => {
    const res = await cw.api('POST', '/v1/sites', {
      body: {
        id: 'dc-weak-key',
        name: 'Weak',
        lat: 52.3,
        lon: 4.9,
        radiusKm: 1,
        publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: identity, kid: 'k1' },
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toMatch(/small-order/);
  });
});
