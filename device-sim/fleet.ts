// Brings up N simulated trackers: a key each, connected to the broker, registered through the API.

import type { LatLon } from '../src/geo/types.ts';
import { fetchAckKey, registerDevice } from './api.ts';
import { type DeviceAlg, type DeviceKey, generateDeviceKey } from './keys.ts';
import { lineTrack, type Track } from './route.ts';
import { Tracker } from './tracker.ts';

export interface SimDevice {
  deviceId: string;
  key: DeviceKey;
  track: Track;
  tracker: Tracker;
}

export interface FleetOptions {
  count: number;
  idPrefix: string;
  alg: DeviceAlg;
  apiUrl: string;
  token: string;
  mqttUrl: string;
  topicPrefix?: string;
  from: LatLon;
  to: LatLon;
  speedKmh: number;
  /** Device time at which every track leaves `from`; default now. */
  startTs?: number;
  resendAfterMs?: number;
  connectTimeoutMs?: number;
}

/** Parallel registrations: enough to hide round trips without flooding a small API. */
const REGISTER_CONCURRENCY = 8;

export function deviceIdFor(idPrefix: string, index: number): string {
  return `${idPrefix}-${String(index + 1).padStart(4, '0')}`;
}

export async function startFleet(opts: FleetOptions): Promise<SimDevice[]> {
  const startTs = opts.startTs ?? Date.now();
  const ackKey = await fetchAckKey(opts.apiUrl);
  const devices: SimDevice[] = Array.from({ length: opts.count }, (_, i) => {
    const deviceId = deviceIdFor(opts.idPrefix, i);
    const key = generateDeviceKey(opts.alg);
    const tracker = new Tracker({
      deviceId,
      key,
      mqttUrl: opts.mqttUrl,
      ackKey,
      ...(opts.topicPrefix === undefined ? {} : { topicPrefix: opts.topicPrefix }),
      ...(opts.resendAfterMs === undefined ? {} : { resendAfterMs: opts.resendAfterMs }),
    });
    return { deviceId, key, tracker, track: lineTrack(opts.from, opts.to, opts.speedKmh, { startTs }) };
  });
  try {
    // Broker first: registering devices that then cannot publish would only leave litter in the database.
    try {
      await Promise.all(devices.map((d) => d.tracker.waitConnected(opts.connectTimeoutMs ?? 10_000)));
    } catch (err) {
      throw new Error(
        `${(err as Error).message} chipwatch embeds the broker: start it with npm start, or pass --mqtt URL`,
        { cause: err },
      );
    }
    await registerAll(opts, devices);
  } catch (err) {
    await stopFleet(devices);
    throw err;
  }
  return devices;
}

async function registerAll(opts: FleetOptions, devices: readonly SimDevice[]): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < devices.length) {
      const d = devices[next++]!;
      try {
        await registerDevice(opts.apiUrl, opts.token, d.deviceId, d.key.publicJwk);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(REGISTER_CONCURRENCY, devices.length) }, worker));
}

export async function stopFleet(devices: readonly SimDevice[]): Promise<void> {
  await Promise.all(devices.map((d) => d.tracker.close()));
}
