// Every scenario file parses, and its planned telemetry, fed through chipwatch's own checks (pure, no database) in
// the messages the tracker would send, raises exactly the alerts the scenario expects from its fixes — for several
// seeds of GPS noise. Rejections and site alerts need the ingest path: tests/integration/sim-scenarios.test.ts.
import { describe, expect, it } from 'vitest';
import { planScenario } from '../../../device-sim/plan.ts';
import { loadScenario, scenarioNames } from '../../../device-sim/scenario.ts';
import { checkPlan } from './replay-checks.ts';

const SITE_OR_MESSAGE_ALERTS = /^(ATTESTATION_|CHIP_|SIGNATURE_INVALID|UNKNOWN_KEY|REPLAY|SIGNAL_LOST)/;

describe('scenario files', () => {
  const names = scenarioNames();

  it('cover every alert the issue asks for, and parse', () => {
    expect(names.length).toBeGreaterThanOrEqual(25);
    const expected = new Set(
      names.flatMap((n) =>
        loadScenario(n).scenario.expect.map((e) => ('alert' in e ? e.alert : e.rejection)),
      ),
    );
    for (const t of [
      'ROUTE_DEVIATION',
      'DIVERSION_TOWARD_RESTRICTED',
      'RESTRICTED_ZONE_ENTERED',
      'UNPLANNED_STOP',
      'GAP_WITH_DISPLACEMENT',
      'TAMPER',
      'SPOOFING_SUSPECTED',
      'SIGNATURE_INVALID',
      'REPLAY',
      'ATTESTATION_RTT_IMPLAUSIBLE',
      'CHIP_AT_UNEXPECTED_SITE',
      'CHIP_MISSING',
    ]) {
      expect(expected, t).toContain(t);
    }
  });

  for (const name of names) {
    const { scenario } = loadScenario(name);
    if (!scenario.shipment) continue;
    it(`${name}: the planned fixes raise exactly the expected alerts under chipwatch's checks`, () => {
      const want = scenario.expect
        .flatMap((e) => ('alert' in e ? [e.alert] : []))
        .filter((t) => !SITE_OR_MESSAGE_ALERTS.test(t))
        .sort();
      for (const seed of [1, 2, 3]) {
        const plan = planScenario(scenario, { seed });
        const raised = checkPlan(scenario, plan).filter((r) => !scenario.allow.includes(r.type));
        expect([...new Set(raised.map((r) => r.type))].sort(), `seed ${seed}`).toEqual(want);
        for (const e of scenario.expect) {
          if (!('alert' in e)) continue;
          const first = raised.find((r) => r.type === e.alert)!;
          if (e.withinH !== undefined)
            expect(first.afterIncidentH, `${e.alert} seed ${seed}`).toBeLessThanOrEqual(e.withinH);
          if (e.country) expect(first.country, `${e.alert} country, seed ${seed}`).toBe(e.country);
        }
        // A diversion warns ahead of the entry: 2 h for ships and trucks, one report interval for aircraft.
        const diversion = raised.find((r) => r.type === 'DIVERSION_TOWARD_RESTRICTED');
        const entry = raised.find((r) => r.type === 'RESTRICTED_ZONE_ENTERED');
        if (diversion && entry) {
          const leadH = diversion.mode === 'air' ? diversion.reportIntervalS / 3600 : 2;
          expect(
            entry.afterIncidentH - diversion.afterIncidentH,
            `lead, seed ${seed}`,
          ).toBeGreaterThanOrEqual(leadH - 1e-9);
        }
      }
    });
  }
});
