// Data centers end to end: signed attestations over MQTT through the same pipeline as telemetry, the physics and
// custody checks, a shipment becoming `installed`, a chip's custody chain, and an evidence bundle verified offline.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { signCompactJws } from '../../device-sim/signer.ts';
import { Tracker } from '../../device-sim/tracker.ts';
import { sweepSilentSites } from '../../src/alerts/signal-lost.ts';
import { verifyBundle } from '../../src/evidence/verify.ts';
import { haversineKm } from '../../src/geo/spherical.ts';
import type { LatLon } from '../../src/geo/types.ts';
import { startAedes, type TestBroker } from '../helpers/broker.ts';
import { eventually, registerDevice, startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';
import { alongRoute } from '../helpers/geo.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const run = promisify(execFile);
let broker: TestBroker;
let cw: TestChipwatch;
let dbUrl: string;
const clients: Tracker[] = [];
const HOUR = 3_600_000;

const LANDMARKS = {
  'lm-ams': { lat: 52.3676, lon: 4.9041 },
  'lm-fra': { lat: 50.1109, lon: 8.6821 },
  'lm-sin': { lat: 1.3521, lon: 103.8198 },
  'lm-tyo': { lat: 35.6762, lon: 139.6503 },
};
const AMS = { lat: 52.3, lon: 4.94 };
const FRA = { lat: 50.1, lon: 8.7 };
const SHENZHEN = { lat: 22.54, lon: 114.06 };

/** The RTTs a site really at `p` measures: fibre at ≈ 200 km/ms over 1.5× the great circle, plus 0.3 ms. */
const rttsFrom = (p: LatLon) =>
  Object.entries(LANDMARKS).map(([landmarkId, l]) => ({
    landmarkId,
    rttMs: Math.round(((2 * haversineKm(l, p) * 1.5) / 200 + 0.3) * 100) / 100,
  }));

async function site(id: string, at: LatLon, params: Record<string, number> = {}) {
  const key = generateDeviceKey();
  const res = await cw.api('POST', '/v1/sites', {
    body: {
      id,
      name: `DC ${id}`,
      endUser: 'Example Cloud BV',
      ...at,
      radiusKm: 5,
      params,
      publicKeyJwk: key.publicJwk,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const client = new Tracker({
    deviceId: id,
    subject: 'sites',
    key,
    mqttUrl: broker.url,
    ackKey: cw.ackKey,
    mqttPassword: res.body.mqttPassword,
  });
  clients.push(client);
  await client.waitConnected();
  return {
    key,
    client,
    attest: async (
      body: { location: LatLon; chips: string[]; landmarks?: { landmarkId: string; rttMs: number }[] },
      sentAt = Date.now(),
    ) => {
      client.sendAttestation({ landmarks: rttsFrom(body.location), ...body }, sentAt);
      expect(await client.waitAllAcked(30_000)).toBe(true);
    },
  };
}

const siteAlerts = async (siteId: string) =>
  ((await cw.api('GET', '/v1/alerts?limit=500', { role: 'compliance' })).body.items as any[]).filter(
    (a) => a.siteId === siteId,
  );

beforeAll(async () => {
  broker = await startAedes();
  dbUrl = await createTestDatabase(inject('pgAdminUrl'));
  cw = await startTestChipwatch({ DATABASE_URL: dbUrl, MQTT_URL: broker.url, SIGNAL_LOST_SWEEP_S: '3600' });
  for (const [id, p] of Object.entries(LANDMARKS)) {
    expect((await cw.api('POST', '/v1/landmarks', { body: { id, ...p } })).status).toBe(201);
  }
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await cw?.stop();
  await broker?.stop();
});

describe('registry', () => {
  it('registers sites (country derived from the point) and landmarks; refuses duplicates and bad input', async () => {
    const key = generateDeviceKey();
    const res = await cw.api('POST', '/v1/sites', {
      body: { id: 'dc-reg', name: 'Reg', lat: 52.3, lon: 4.94, radiusKm: 3, publicKeyJwk: key.publicJwk },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: 'dc-reg', country: 'NL', status: 'never_attested', radiusKm: 3 });
    const dup = await cw.api('POST', '/v1/sites', {
      body: {
        id: 'dc-reg',
        name: 'Reg',
        lat: 52.3,
        lon: 4.94,
        radiusKm: 3,
        publicKeyJwk: generateDeviceKey().publicJwk,
      },
    });
    expect(dup.status).toBe(409);
    expect(
      (
        await cw.api('POST', '/v1/sites', {
          body: { id: 'x', name: 'x', lat: 91, lon: 0, publicKeyJwk: key.publicJwk },
        })
      ).status,
    ).toBe(422);
    expect((await cw.api('POST', '/v1/landmarks', { body: { id: 'lm-ams', lat: 1, lon: 1 } })).status).toBe(
      409,
    );
    // A kid already used (by a site or a tracker) is refused, and nothing half-registered is left behind.
    const reused = await cw.api('POST', '/v1/sites', {
      body: { id: 'dc-reuse', name: 'Reuse', lat: 52.3, lon: 4.94, publicKeyJwk: key.publicJwk },
    });
    expect(reused.status).toBe(409);
    expect(reused.body.error.message).toContain(`key id ${key.publicJwk.kid}`);
    expect((await cw.api('GET', '/v1/sites/dc-reuse', { role: 'compliance' })).status).toBe(404);
    const asDevice = await cw.api('POST', '/v1/devices', {
      body: { id: 'trk-reuse', publicKeyJwk: key.publicJwk },
    });
    expect(asDevice.status).toBe(409);
    expect((await cw.api('GET', '/v1/devices/trk-reuse', { role: 'compliance' })).status).toBe(404);
    expect((await cw.api('POST', '/v1/sites', { role: 'logistics', body: {} })).status).toBe(403);
    expect((await cw.api('GET', '/v1/sites/nope', { role: 'compliance' })).status).toBe(404);
    const list = await cw.api('GET', '/v1/landmarks', { role: 'compliance' });
    expect(list.body.items.map((l: any) => l.id)).toEqual(['lm-ams', 'lm-fra', 'lm-sin', 'lm-tyo']);
  });
});

describe('attestations through MQTT', () => {
  it('an honest Amsterdam site: stored, acked, its feasible region around Amsterdam, no alert', async () => {
    const s = await site('dc-honest', AMS);
    await s.attest({ location: AMS, chips: [] });
    const view = (await cw.api('GET', '/v1/sites/dc-honest', { role: 'compliance' })).body;
    expect(view.status).toBe('active');
    expect(view.lastAttestation.seq).toBe(s.client.ackedSeq);
    expect(view.feasibleRegion.kind).toBe('region');
    expect(view.feasibleRegion.geometry.type).toBe('Polygon');
    expect(view.feasibleRegion.intersectsRestricted).toBe(false);
    expect(await siteAlerts('dc-honest')).toEqual([]);
    expect(
      await cw.sql('SELECT count(*)::int AS n FROM attestations WHERE site_id = $1', ['dc-honest']),
    ).toEqual([{ n: 1 }]);
  });

  it('RTTs only a site in Asia could measure: ATTESTATION_RTT_IMPLAUSIBLE with landmark, RTT, bound and distance; the region touches China', async () => {
    const s = await site('dc-liar', AMS);
    await s.attest({ location: AMS, chips: [], landmarks: rttsFrom(SHENZHEN) });
    const alerts = await siteAlerts('dc-liar');
    expect(alerts.map((a) => a.type)).toEqual(['ATTESTATION_RTT_IMPLAUSIBLE']);
    const v = alerts[0].details.violations.find((x: any) => x.landmarkId === 'lm-sin');
    expect(v.distanceKm).toBeGreaterThan(v.boundKm);
    expect(v.rttMs).toBeGreaterThan(0);
    const view = (await cw.api('GET', '/v1/sites/dc-liar', { role: 'compliance' })).body;
    expect(view.feasibleRegion.intersectsRestricted).toBe(true);
    expect(view.feasibleRegion.restrictedZonesTouched.map((z: any) => z.id)).toContain('CN');
  });

  it('a relay adding latency does not raise the physics alert', async () => {
    const s = await site('dc-relay', AMS);
    await s.attest({
      location: AMS,
      chips: [],
      landmarks: rttsFrom(AMS).map((l) => ({ ...l, rttMs: l.rttMs + 120 })),
    });
    expect(await siteAlerts('dc-relay')).toEqual([]);
  });

  it('a claimed location outside the registered radius: ATTESTATION_LOCATION_MISMATCH', async () => {
    const s = await site('dc-moved', AMS);
    const berlin = { lat: 52.52, lon: 13.4 };
    await s.attest({ location: berlin, chips: [] });
    const alerts = await siteAlerts('dc-moved');
    expect(alerts.map((a) => a.type)).toEqual(['ATTESTATION_LOCATION_MISMATCH']);
    expect(alerts[0].details.distanceKm).toBeGreaterThan(500);
  });

  it('same rules as telemetry: forged signature, replay and duplicate, wrong typ', async () => {
    const s = await site('dc-attacked', AMS);
    await s.attest({ location: AMS, chips: [] });
    const forger = generateDeviceKey();
    const payload = {
      v: 1,
      siteId: 'dc-attacked',
      seq: 50,
      sentAt: Date.now(),
      location: AMS,
      chips: [],
      landmarks: [],
    };
    await s.client.sendRaw(
      'attestations',
      signCompactJws(payload, { ...forger, kid: s.key.kid }, 'chipwatch-attestation+jws'),
    );
    await s.client.sendRaw('attestations', signCompactJws(payload, s.key, 'chipwatch-telemetry+jws'));
    // A different payload under an accepted seq is a replay; the very same payload again is a duplicate.
    const first = s.client.recent[0]!;
    const replay = { ...payload, seq: first.seq, chips: ['GPU-FAKE'] };
    await s.client.sendRaw('attestations', signCompactJws(replay, s.key, 'chipwatch-attestation+jws'));
    await s.client.sendRaw('attestations', first.jws);
    const reasons = await eventually(async () => {
      const items = (await cw.api('GET', '/v1/rejections?siteId=dc-attacked', { role: 'compliance' })).body
        .items as any[];
      return items.length >= 3 ? items.map((r) => r.reason).sort() : undefined;
    });
    expect(reasons).toEqual(['HEADER_NOT_ALLOWED', 'REPLAY', 'SIGNATURE_INVALID']);
    // Forgeries and replays on a registered site's topic are alerted (counted per site), not only stored.
    expect((await siteAlerts('dc-attacked')).map((a) => a.type).sort()).toEqual([
      'REPLAY',
      'SIGNATURE_INVALID',
    ]);
    expect(
      await cw.sql('SELECT count(*)::int AS n FROM attestation_messages WHERE site_id = $1', ['dc-attacked']),
    ).toEqual([{ n: 1 }]);
  });
});

describe('custody: shipment → site → installed, unexpected and missing chips, evidence', () => {
  const ROTTERDAM = { name: 'Rotterdam', lat: 51.9, lon: 4.4, radiusKm: 10 };
  let amsSite: Awaited<ReturnType<typeof site>>;
  let fraSite: Awaited<ReturnType<typeof site>>;
  const chips = ['GPU-0001', 'GPU-0002'];

  beforeAll(async () => {
    amsSite = await site('dc-ams-01', AMS, { chipMissingAfterS: 1800 });
    fraSite = await site('dc-fra-01', FRA);
    const { key, mqttPassword } = await registerDevice(cw, 'trk-custody');
    const route = [
      [4.4, 51.9],
      [4.94, 52.3],
    ];
    const res = await cw.api('POST', '/v1/shipments', {
      role: 'logistics',
      body: {
        id: 'shp-custody',
        deviceId: 'trk-custody',
        mode: 'road',
        origin: ROTTERDAM,
        destination: { siteId: 'dc-ams-01' },
        route: { type: 'LineString', coordinates: route },
        reportIntervalS: 600,
        chips,
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.destination).toMatchObject({ siteId: 'dc-ams-01', lat: AMS.lat, lon: AMS.lon });
    const tracker = new Tracker({
      deviceId: 'trk-custody',
      key,
      mqttUrl: broker.url,
      ackKey: cw.ackKey,
      mqttPassword,
    });
    clients.push(tracker);
    await tracker.waitConnected();
    const fixes = alongRoute(route as [number, number][], 60, 10, Date.now() - 6 * HOUR);
    // At the door, then still there 30 min later: arrival is a stop inside the destination, not a pass-by.
    fixes.push(
      { ts: fixes.at(-1)!.ts + 10 * 60_000, ...AMS },
      { ts: fixes.at(-1)!.ts + 40 * 60_000, ...AMS },
    );
    tracker.send(fixes);
    expect(await tracker.waitAllAcked(30_000)).toBe(true);
    expect((await cw.api('GET', '/v1/shipments/shp-custody', { role: 'logistics' })).body.status).toBe(
      'arrived',
    );
  });

  it('a site attesting the chips of a shipment still on its way does not end its tracking', async () => {
    // Its own site and shipment: nothing here depends on the custody story below.
    const earlySite = await site('dc-ams-early', AMS);
    const key = generateDeviceKey();
    expect(
      (await cw.api('POST', '/v1/devices', { body: { id: 'trk-early', publicKeyJwk: key.publicJwk } }))
        .status,
    ).toBe(201);
    const res = await cw.api('POST', '/v1/shipments', {
      role: 'logistics',
      body: {
        id: 'shp-early',
        deviceId: 'trk-early',
        mode: 'road',
        origin: ROTTERDAM,
        destination: { siteId: 'dc-ams-early' },
        route: {
          type: 'LineString',
          coordinates: [
            [4.4, 51.9],
            [4.94, 52.3],
          ],
        },
        chips: ['GPU-EARLY'],
      },
    });
    expect(res.status).toBe(201);
    await earlySite.attest({ location: AMS, chips: ['GPU-EARLY'] }, Date.now() - 4 * HOUR);
    expect((await cw.api('GET', '/v1/shipments/shp-early', { role: 'logistics' })).body.status).toBe(
      'planned',
    );
  });

  // The custody story is one test: each step builds on the state the one before left (which chips were attested
  // where and when, backdated in order; the shipment installed; the clone alert acked for the evidence), so the
  // steps run in this order inside one `it` rather than as `it`s that depend on the order they run in.
  it('custody step by step: unexpected site, installed, clone, missing and resolved, silent site, custody chain, evidence', async () => {
    // 1. chips attested at another site, and a serial no shipment carried: CHIP_AT_UNEXPECTED_SITE.
    {
      await fraSite.attest({ location: FRA, chips: ['GPU-0001', 'GPU-STRAY'] }, Date.now() - 5 * HOUR);
      const [a] = await siteAlerts('dc-fra-01');
      expect(a.type).toBe('CHIP_AT_UNEXPECTED_SITE');
      expect(a.details.serials.sort()).toEqual(['GPU-0001', 'GPU-STRAY']);
    }
    // 2. every chip attested at the destination site: the shipment is installed.
    {
      await amsSite.attest({ location: AMS, chips }, Date.now() - 3 * HOUR);
      const s = (await cw.api('GET', '/v1/shipments/shp-custody', { role: 'logistics' })).body;
      expect(s.status).toBe('installed');
      const site = (await cw.api('GET', '/v1/sites/dc-ams-01', { role: 'compliance' })).body;
      expect(site.chips).toEqual(chips);
      expect(site.chipsAttested).toBe(2);
    }
    // 3. the same serial at two sites closer in time than light allows: CHIP_AT_UNEXPECTED_SITE on both.
    {
      const t = Date.now() - 2 * HOUR;
      await fraSite.attest({ location: FRA, chips: ['GPU-CLONE'] }, t);
      await amsSite.attest({ location: AMS, chips: [...chips, 'GPU-CLONE'] }, t);
      const both = [...(await siteAlerts('dc-ams-01')), ...(await siteAlerts('dc-fra-01'))].filter(
        (a) => a.type === 'CHIP_AT_UNEXPECTED_SITE' && a.details.serials.includes('GPU-CLONE'),
      );
      expect(both.map((a) => a.siteId).sort()).toEqual(['dc-ams-01', 'dc-fra-01']);
    }
    // 4. a delivered serial absent longer than the threshold: CHIP_MISSING; present again: resolved.
    {
      await amsSite.attest({ location: AMS, chips: ['GPU-0001'] }, Date.now() - HOUR);
      const missing = (await siteAlerts('dc-ams-01')).find((a) => a.type === 'CHIP_MISSING');
      expect(missing?.details.serials).toEqual(['GPU-0002']);
      // A backdated attestation (older than the one taken) does not clear it.
      await amsSite.attest({ location: AMS, chips }, Date.now() - 1.5 * HOUR);
      expect((await cw.api('GET', `/v1/alerts/${missing.id}`, { role: 'compliance' })).body.status).toBe(
        'open',
      );
      await amsSite.attest({ location: AMS, chips }, Date.now() - HOUR / 2);
      const after = (await cw.api('GET', `/v1/alerts/${missing.id}`, { role: 'compliance' })).body;
      expect(after.status).toBe('resolved');
    }
    // 5. a site that stops attesting: CHIP_MISSING from the timer; the next attestation resolves it.
    {
      const openMissing = async () =>
        (await siteAlerts('dc-ams-01')).find((a) => a.type === 'CHIP_MISSING' && a.status === 'open');
      // Other sites of this file attested hours ago and may be swept; dc-ams-01 attested 30 min ago.
      await sweepSilentSites(cw.pool, Date.now() + 2 * HOUR);
      expect(await openMissing()).toBeUndefined();
      expect(await sweepSilentSites(cw.pool, Date.now() + 4 * HOUR)).toBeGreaterThanOrEqual(1);
      const silent = await openMissing();
      expect(silent.details.reason).toBe('the site stopped attesting');
      await amsSite.attest({ location: AMS, chips });
      expect((await cw.api('GET', `/v1/alerts/${silent.id}`, { role: 'compliance' })).body.status).toBe(
        'resolved',
      );
    }
    // 6. a chip's custody chain: shipment, fixes, arrival, attestations, alerts.
    {
      const res = await cw.api('GET', '/v1/chips/GPU-0001', { role: 'compliance' });
      expect(res.status).toBe(200);
      expect(res.body.shipments).toHaveLength(1);
      expect(res.body.shipments[0]).toMatchObject({ id: 'shp-custody', status: 'installed' });
      expect(res.body.shipments[0].fixes.count).toBeGreaterThan(3);
      expect(res.body.attestations.map((a: any) => a.siteId)).toContain('dc-fra-01');
      expect(res.body.sites.map((x: any) => x.siteId).sort()).toEqual(['dc-ams-01', 'dc-fra-01']);
      const times = res.body.attestations.map((a: any) => Date.parse(a.at));
      expect(times).toEqual([...times].sort((x: number, y: number) => x - y));
      expect(res.body.alerts.map((a: any) => a.type)).toContain('CHIP_AT_UNEXPECTED_SITE');
      expect((await cw.api('GET', '/v1/chips/GPU-NEVER', { role: 'compliance' })).status).toBe(404);
    }
    // 7. the evidence bundle verifies offline; one changed byte fails with the reason.
    {
      const clone = (await siteAlerts('dc-ams-01')).find((a) => a.type === 'CHIP_AT_UNEXPECTED_SITE')!;
      expect(
        (
          await cw.api('POST', `/v1/alerts/${clone.id}/ack`, {
            role: 'compliance',
            body: { note: 'checking' },
          })
        ).status,
      ).toBe(200);
      const res = await cw.api('GET', '/v1/shipments/shp-custody/evidence', { role: 'compliance' });
      expect(res.status).toBe(200);
      const bundle = res.body;
      expect(bundle.messages.filter((m: any) => m.kind === 'telemetry').length).toBeGreaterThan(0);
      expect(bundle.messages.filter((m: any) => m.kind === 'attestation').length).toBeGreaterThan(3);
      expect(bundle.keys.map((k: any) => k.owner).sort()).toContain('site');
      expect(bundle.alerts.some((a: any) => a.audit.length >= 2)).toBe(true);
      const report = verifyBundle(bundle);
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.summary?.chipsAttested).toBe(2);

      const dir = await mkdtemp(join(tmpdir(), 'cw-evidence-'));
      const text = JSON.stringify(bundle, null, 2);
      await writeFile(join(dir, 'good.json'), text);
      const key = (await cw.api('GET', '/v1/evidence/key', { role: 'compliance' })).body;
      expect(key.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(bundle.seal.fingerprint).toBe(key.fingerprint);
      const ok = await run('npx', [
        'tsx',
        'src/cli.ts',
        'verify-evidence',
        join(dir, 'good.json'),
        '--key',
        key.fingerprint,
      ]);
      expect(ok.stdout).toMatch(/Verdict: VERIFIED/);
      expect(ok.stdout).toMatch(/Sealed by the pinned chipwatch key/);
      expect(ok.stdout).toMatch(/Attestations: \d+ from dc-ams-01, dc-fra-01; 2 of 2 chips attested/);

      // One byte of one signature: that message fails (and the digest).
      const sigAt = text.indexOf('"jws": "') + 8;
      const jwsEnd = text.indexOf('"', sigAt);
      const flipAt = jwsEnd - 5;
      const flipped = text.slice(0, flipAt) + (text[flipAt] === 'A' ? 'B' : 'A') + text.slice(flipAt + 1);
      await writeFile(join(dir, 'bad.json'), flipped);
      const bad = await run('npx', ['tsx', 'src/cli.ts', 'verify-evidence', join(dir, 'bad.json')]).catch(
        (e) => e,
      );
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/Verdict: FAILED/);
      expect(bad.stdout).toMatch(/message 0 \(telemetry, .*\): the signature does not verify/);

      // One byte of an audit note: the alert's chain breaks.
      const tampered = structuredClone(bundle);
      const row = tampered.alerts.find((a: any) => a.audit.length >= 2).audit[1];
      row.note = row.note === 'checking' ? 'checkinG' : `${row.note}!`;
      const r2 = verifyBundle(tampered);
      expect(r2.ok).toBe(false);
      expect(r2.problems.some((p) => /audit row 1: its content does not match its hash/.test(p))).toBe(true);
      expect(r2.problems.some((p) => /^digest:/.test(p))).toBe(true);
    }
  }, 120_000);
});
