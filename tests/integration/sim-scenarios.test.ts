// The simulator end to end against chipwatch running in-process (real PostgreSQL, real aedes broker): a selection of
// scenarios at a high speed-up, each provisioned through the public API, played over MQTT, and judged from the
// alerts and rejections read back through the API. `npm run demo` plays all of them.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { renderReport } from '../../device-sim/report.ts';
import { runScenarios } from '../../device-sim/run.ts';
import { loadScenario } from '../../device-sim/scenario.ts';
import { startAedes, type TestBroker } from '../helpers/broker.ts';
import { startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

let broker: TestBroker;
let cw: TestChipwatch;

beforeAll(async () => {
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
    // The site-silence timer is a sweep: look every second so the site that stops attesting is caught quickly.
    SIGNAL_LOST_SWEEP_S: '1',
  });
});
afterAll(async () => {
  await cw?.stop();
  await broker?.stop();
});

describe('device-sim scenarios against chipwatch', () => {
  it('a diversion, a dark tracker, a watch-country stop, a stop short of the destination, a forged signature, an unknown key, a replayed capture, four data-center scenarios, an overflight, an anchorage wait, pinned GNSS spoofing and a pass-by diversion each raise exactly their expected alerts and rejections', {
    timeout: 150_000,
  }, async () => {
    const names = [
      'diversion-sea',
      'dark-reappear',
      'transshipment-stop',
      'forged-signature',
      'unknown-key',
      'replayed-capture',
      'rtt-implausible',
      'wrong-site',
      'site-stops-attesting',
      'site-moved',
      'destination-mismatch',
      // Issue 14: a lawful overflight and anchorage wait raise nothing critical; GNSS pinned to Russia is spoofing,
      // not an entry; a pass-by is no arrival and the diversion names China hours ahead.
      'air-overflight-cruise',
      'anchorage-wait-sea',
      'spoof-baltic-pinned',
      'passby-divert-sea',
    ];
    const report = await runScenarios({
      apiUrl: cw.httpUrl,
      mqttUrl: broker.url,
      token: await cw.token('admin'),
      speedup: 200_000,
      scenarios: names.map((n) => loadScenario(n)),
      idPrefix: 'ci',
      settleMs: 40_000,
    });
    const text = renderReport(report);
    expect(
      report.instances.map((i) => [i.name, i.verdict.ok]),
      text,
    ).toEqual(names.map((n) => [n, true]));
    expect(report.totals.pending, text).toBe(0);
    expect(report.ok, text).toBe(true);

    // What the verdicts rest on, checked directly: the forged messages were refused and none of their fixes stored.
    const forged = report.instances.find((i) => i.name === 'forged-signature')!;
    const rejections = await cw.api('GET', `/v1/rejections?deviceId=${forged.deviceId}`);
    expect(rejections.body.items.map((r: { reason: string }) => r.reason)).toEqual([
      'SIGNATURE_INVALID',
      'SIGNATURE_INVALID',
      'SIGNATURE_INVALID',
    ]);
    expect(forged.verdict.fixes!.stored).toBe(forged.verdict.fixes!.sent);
    // The diverted ship's alerts, as compliance staff see them.
    const diverted = report.instances.find((i) => i.name === 'diversion-sea')!;
    const alerts = await cw.api('GET', `/v1/alerts?shipmentId=${diverted.shipmentId}`, {
      role: 'compliance',
    });
    expect(alerts.body.items.map((a: { type: string }) => a.type).sort()).toEqual([
      'DIVERSION_TOWARD_RESTRICTED',
      'RESTRICTED_ZONE_ENTERED',
      'ROUTE_DEVIATION',
    ]);
  });
});
