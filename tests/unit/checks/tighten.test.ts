// Tighten-only: which fields of a logistics request weaken a check, and the licence records a shipment cites
// covering their countries only while live (read at check time).
import { describe, expect, it } from 'vitest';
import { shipmentContext } from '../../../src/checks/context.ts';
import { defaultParams } from '../../../src/checks/params.ts';
import type { ShipmentRecord } from '../../../src/checks/shipment.ts';
import { LOOSER, type LogisticsRequest, type PolicyFields, weakenings } from '../../../src/checks/tighten.ts';
import type { CheckParams } from '../../../src/checks/types.ts';
import { buildPlannedRoute } from '../../../src/geo/routes.ts';
import type { Zone } from '../../../src/geo/types.ts';
import { geo } from '../../helpers/geo.ts';

const RESTRICTED = new Set(['CN', 'RU', 'IR']);
const fields = (over: Partial<PolicyFields> = {}): PolicyFields => ({
  restrictedCountries: null,
  corridorKm: 50,
  params: {},
  licenses: [],
  ...over,
});
const request = (over: Partial<LogisticsRequest> = {}): LogisticsRequest => ({
  mode: 'sea',
  policyRestricted: RESTRICTED,
  globalParams: {},
  next: fields(),
  addedLicences: [],
  destinationCountry: 'NL',
  ...over,
});
const fieldsOf = (r: LogisticsRequest) => weakenings(r).map((w) => w.field);

describe('tighten-only', () => {
  it('accepts the default policy and anything stricter', () => {
    expect(weakenings(request())).toEqual([]);
    expect(
      fieldsOf(
        request({
          next: fields({
            restrictedCountries: ['CN', 'RU', 'IR', 'PK'],
            corridorKm: 10,
            params: { maxSpeedKmh: 40, stopRadiusKm: 5, diversionHorizonHours: 24 },
          }),
        }),
      ),
    ).toEqual([]);
  });

  it('names restrictedCountries when a policy-restricted code is left out, listing the codes', () => {
    const [w] = weakenings(request({ next: fields({ restrictedCountries: ['RU'] }) }));
    expect(w?.field).toBe('restrictedCountries');
    expect(w?.message).toMatch(/CN, IR/);
    expect(fieldsOf(request({ next: fields({ restrictedCountries: [] }) }))).toEqual(['restrictedCountries']);
  });

  it('for every threshold, refuses the looser direction and accepts the tighter one, against the global policy', () => {
    const base = defaultParams('sea');
    for (const key of Object.keys(LOOSER) as (keyof CheckParams)[]) {
      const v = base[key];
      const looser = LOOSER[key] === 'higher' ? v * 2 + 1 : v / 2;
      const tighter = LOOSER[key] === 'higher' ? v / 2 : v * 2 + 1;
      expect(fieldsOf(request({ next: fields({ params: { [key]: looser } }) })), key).toEqual([
        `params.${key}`,
      ]);
      expect(fieldsOf(request({ next: fields({ params: { [key]: tighter } }) })), key).toEqual([]);
    }
  });

  it('judges thresholds against CHECK_PARAMS, not only the built-in defaults', () => {
    // The operator tightened stopMinutesWatch to 90: logistics may not set the built-in 120 back.
    const r = request({
      globalParams: { stopMinutesWatch: 90 },
      next: fields({ params: { stopMinutesWatch: 120 } }),
    });
    expect(fieldsOf(r)).toEqual(['params.stopMinutesWatch']);
  });

  it('allows a wider corridor for air than for sea, and no wider than the shipment has on a change', () => {
    expect(fieldsOf(request({ next: fields({ corridorKm: 80 }) }))).toEqual(['corridorKm']);
    expect(fieldsOf(request({ mode: 'air', next: fields({ corridorKm: 80 }) }))).toEqual([]);
    expect(
      fieldsOf(request({ current: fields({ corridorKm: 20 }), next: fields({ corridorKm: 30 }) })),
    ).toEqual(['corridorKm']);
  });

  it('on a change, does not let logistics undo what compliance tightened', () => {
    const current = fields({ restrictedCountries: ['CN', 'RU', 'IR', 'PK'], params: { maxSpeedKmh: 30 } });
    expect(fieldsOf(request({ current, next: fields({ params: { maxSpeedKmh: 30 } }) }))).toEqual([
      'restrictedCountries',
    ]);
    expect(
      fieldsOf(request({ current, next: fields({ restrictedCountries: ['CN', 'RU', 'IR', 'PK'] }) })),
    ).toEqual(['params.maxSpeedKmh']);
  });

  it('refuses a free-text licence added by logistics but keeps one that was there', () => {
    const cn = { country: 'CN', number: 'X-1' };
    expect(fieldsOf(request({ next: fields({ licenses: [cn] }) }))).toEqual(['licenses']);
    expect(
      fieldsOf(request({ current: fields({ licenses: [cn] }), next: fields({ licenses: [cn] }) })),
    ).toEqual([]);
  });

  it('refuses a licence that does not exist, is revoked, expired, not yet valid, or not for the destination', () => {
    const live = { status: 'active' as const, countries: ['NL'], validTo: '2030-01-01T00:00:00.000Z' };
    const cases: [LogisticsRequest['addedLicences'][number], RegExp | null][] = [
      [{ id: 'lic-ok', licence: live }, null],
      [{ id: 'lic-none' }, /no licence lic-none/],
      [{ id: 'lic-r', licence: { ...live, status: 'revoked' } }, /revoked/],
      [{ id: 'lic-e', licence: { ...live, status: 'expired' } }, /expired/],
      [{ id: 'lic-p', licence: { ...live, status: 'pending' } }, /not valid yet/],
      [
        { id: 'lic-cn', licence: { ...live, countries: ['CN'] } },
        /does not list the destination country \(NL\)/,
      ],
    ];
    for (const [claim, message] of cases) {
      const w = weakenings(request({ addedLicences: [claim] }));
      if (message === null) expect(w).toEqual([]);
      else {
        expect(w.map((x) => x.field)).toEqual(['licenceIds']);
        expect(w[0]!.message).toMatch(message);
      }
    }
  });

  it('refuses a report interval above an hour (SIGNAL_LOST would wait longer)', () => {
    expect(fieldsOf(request({ reportIntervalS: 3601 }))).toEqual(['reportIntervalS']);
    expect(fieldsOf(request({ reportIntervalS: 3600 }))).toEqual([]);
  });

  it('refuses a place radius above 50 km', () => {
    expect(fieldsOf(request({ places: [{ field: 'destination.radiusKm', radiusKm: 51 }] }))).toEqual([
      'destination.radiusKm',
    ]);
    expect(fieldsOf(request({ places: [{ field: 'origin.radiusKm', radiusKm: 50 }] }))).toEqual([]);
  });
});

describe('licences in the check context', () => {
  const zone = (country: string): Zone =>
    ({ id: country, kind: 'country', country, tier: geo().policy.tierOf(country) }) as Zone;
  const record = (over: Partial<ShipmentRecord>): ShipmentRecord =>
    ({
      id: 'shp-ctx',
      mode: 'air',
      origin: { lat: 50, lon: 8.6, radiusKm: 20 },
      destination: { lat: 43.3, lon: 77, radiusKm: 20 },
      route: buildPlannedRoute({
        mode: 'air',
        origin: { lat: 50, lon: 8.6 },
        destination: { lat: 43.3, lon: 77 },
      }),
      plannedStops: [],
      corridorKm: 50,
      reportIntervalS: 3600,
      restrictedCountries: null,
      licenses: [],
      params: {},
      ...over,
    }) as unknown as ShipmentRecord;
  const ctx = (over: Partial<ShipmentRecord>) => shipmentContext(record(over), geo().policy, geo().zones());

  it('a licence record covers its countries while the row says so (live at check time), and nothing otherwise', () => {
    expect(ctx({ licensedCountries: ['KZ'] }).isUnlicensed(zone('KZ'))).toBe(false);
    // Expired or revoked: the database no longer lists its countries for the shipment.
    expect(ctx({ licenceIds: ['lic-kz'], licensedCountries: [] }).isUnlicensed(zone('KZ'))).toBe(true);
  });

  it('no licence lifts a restricted country; only leaving it out of restrictedCountries (compliance) downgrades it', () => {
    expect(ctx({ licensedCountries: ['CN'] }).isRestricted(zone('CN'))).toBe(true);
    const downgraded = ctx({ restrictedCountries: ['RU'], licensedCountries: [] });
    expect(downgraded.isRestricted(zone('CN'))).toBe(false);
    expect(downgraded.isUnlicensed(zone('CN'))).toBe(true);
    expect(ctx({ restrictedCountries: ['RU'], licensedCountries: ['CN'] }).isUnlicensed(zone('CN'))).toBe(
      false,
    );
  });
});
