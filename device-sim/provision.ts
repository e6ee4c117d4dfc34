// Registers a run's scenario instances through chipwatch's public API: landmarks, then (once every tracker has
// reached the broker) sites, devices and shipments, with the thresholds a compressed timeline needs to be judged fairly.
import { apiCreate, fetchAckKey } from './api.ts';
import type { Instance, RunOptions } from './instance.ts';
import { routeLegs } from './journey.ts';
import { type DeviceKey, generateDeviceKey } from './keys.ts';
import type { Plan } from './plan.ts';
import type { Scenario } from './scenario.ts';
import { Tracker } from './tracker.ts';

/** The server's upper bound on gapIntervals (see src/checks/params.ts). */
const MAX_GAP_INTERVALS = 100;
/** Scaled site thresholds stay above event-loop and batching delays. */
const MIN_SITE_THRESHOLD_S = 5;

/**
 * How a compressed timeline is registered so that chipwatch judges it fairly. Its SIGNAL_LOST timer compares the
 * last fix with chipwatch's own clock, and the simulated clock runs behind that by up to the scenario's span; so,
 * at a speed-up, silence is judged over the span: gapIntervals × reportIntervalS ≥ span. gapIntervals stops at 100,
 * after which the registered interval grows instead (only the timer and the gap check read it). A scenario that
 * sets gapIntervals itself (one that goes dark on purpose) is registered as written.
 */
export function registration(
  s: Scenario,
  plan: Plan,
  speedup: number,
): { params: Record<string, number>; reportIntervalS: number } {
  const params = { ...(s.shipment?.params ?? {}) };
  const reportIntervalS = plan.reportIntervalS;
  if (speedup <= 1 || params.gapIntervals !== undefined || reportIntervalS === 0)
    return { params, reportIntervalS };
  const spanS = plan.spanMs / 1000;
  const needed = Math.ceil(spanS / reportIntervalS) + 1;
  if (needed <= 3) return { params, reportIntervalS };
  params.gapIntervals = Math.min(MAX_GAP_INTERVALS, needed);
  const widened = Math.max(reportIntervalS, Math.ceil(spanS / (MAX_GAP_INTERVALS - 1)));
  return { params, reportIntervalS: widened };
}

function shipmentBody(inst: Instance, speedup: number): Record<string, unknown> {
  const sh = inst.scenario.shipment!;
  const journey = inst.plan.journey!;
  const longest = [...journey.motions].sort((a, b) => b.lengthKm - a.lengthKm)[0]!;
  const last = sh.legs.at(-1)!.to;
  const destination = sh.destinationSite
    ? { siteId: inst.sites.get(sh.destinationSite)!.id }
    : { ...last, radiusKm: last.radiusKm ?? 25 };
  const { params, reportIntervalS } = registration(inst.scenario, inst.plan, speedup);
  const body: Record<string, unknown> = {
    id: inst.shipmentId,
    reference: `device-sim ${inst.name} #${inst.nn}`,
    deviceId: inst.deviceId,
    mode: longest.mode,
    origin: { ...sh.origin, radiusKm: sh.origin.radiusKm ?? 25 },
    destination,
    route: { legs: routeLegs(journey) },
    reportIntervalS,
    chips: inst.chips,
    plannedStops: journey.dwells
      .filter((d) => d.transfer)
      .map((d) => ({
        ...(d.at.name ? { name: d.at.name } : {}),
        lat: d.at.lat,
        lon: d.at.lon,
        radiusKm: 25,
      })),
    params,
    ...(sh.corridorKm === undefined ? {} : { corridorKm: sh.corridorKm }),
    ...(sh.restrictedCountries ? { restrictedCountries: sh.restrictedCountries } : {}),
    ...(sh.licenses ? { licenses: sh.licenses } : {}),
  };
  return body;
}
export async function provision(o: RunOptions, insts: Instance[]): Promise<void> {
  const landmarks = new Map<string, { id: string; lat: number; lon: number }>();
  for (const inst of insts)
    for (const s of inst.scenario.sites ?? []) for (const l of s.landmarks) landmarks.set(l.id, l);
  for (const l of landmarks.values()) {
    await apiCreate(
      o.apiUrl,
      o.token,
      '/v1/landmarks',
      { id: `${o.idPrefix}-${l.id}`, lat: l.lat, lon: l.lon },
      `landmark ${l.id}`,
    );
  }
  const alg = o.alg ?? 'EdDSA';
  const ackKey = await fetchAckKey(o.apiUrl);
  const trackers: Tracker[] = [];
  // A tracker connects as firmware does: user name and client id = its id, the password from its registration.
  const tracker = (id: string, key: DeviceKey, subject: 'devices' | 'sites', registered: unknown) => {
    const t = new Tracker({
      deviceId: id,
      key,
      mqttUrl: o.mqttUrl,
      ackKey,
      subject,
      mqttPassword: (registered as { mqttPassword?: string } | undefined)?.mqttPassword,
      ...(o.topicPrefix ? { topicPrefix: o.topicPrefix } : {}),
    });
    trackers.push(t);
    return t;
  };
  for (const inst of insts) {
    for (const s of inst.scenario.sites ?? []) {
      const id = `${o.idPrefix}-${inst.nn}-${s.key}`;
      const key = generateDeviceKey(alg);
      const registered = await apiCreate(
        o.apiUrl,
        o.token,
        '/v1/sites',
        {
          id,
          name: `${s.name} (${inst.nn})`,
          ...(s.endUser ? { endUser: s.endUser } : {}),
          lat: s.lat,
          lon: s.lon,
          radiusKm: s.radiusKm,
          ...(s.country ? { country: s.country } : {}),
          ...(s.params ? { params: siteParamsFor(s.params, o.speedup) } : {}),
          publicKeyJwk: key.publicJwk,
        },
        `site ${id}`,
      );
      inst.sites.set(s.key, { id, key, tracker: tracker(id, key, 'sites', registered) });
    }
    if (inst.deviceId) {
      inst.key = generateDeviceKey(inst.scenario.shipment?.alg ?? alg);
      const registered = await apiCreate(
        o.apiUrl,
        o.token,
        '/v1/devices',
        { id: inst.deviceId, publicKeyJwk: inst.key.publicJwk },
        `device ${inst.deviceId}`,
      );
      inst.tracker = tracker(inst.deviceId, inst.key, 'devices', registered);
    }
  }
  await Promise.all(trackers.map((t) => t.waitConnected(15_000)));
  for (const inst of insts) {
    if (inst.deviceId) {
      await apiCreate(
        o.apiUrl,
        o.token,
        '/v1/shipments',
        shipmentBody(inst, o.speedup),
        `shipment ${inst.shipmentId}`,
      );
    }
  }
}

/**
 * Site thresholds are judged on the real clock (see 'attest' in play.ts): compressed by the speed-up, never below
 * 5 s.
 */
export function siteParamsFor(params: Record<string, number>, speedup: number): Record<string, number> {
  const out = { ...params };
  for (const k of ['siteSilentAfterS', 'chipMissingAfterS']) {
    if (out[k] !== undefined) out[k] = Math.max(MIN_SITE_THRESHOLD_S, out[k] / speedup);
  }
  return out;
}
