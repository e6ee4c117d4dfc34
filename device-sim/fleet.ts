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
  const planned = Array.from({ length: opts.count }, (_, i) => ({
    deviceId: deviceIdFor(opts.idPrefix, i),
    key: generateDeviceKey(opts.alg),
  }));
  // Registered first: a tracker connects with the MQTT password its registration answers.
  const passwords = await registerAll(opts, planned);
  const devices: SimDevice[] = planned.map(({ deviceId, key }) => ({
    deviceId,
    key,
    tracker: new Tracker({
      deviceId,
      key,
      mqttUrl: opts.mqttUrl,
      ackKey,
      mqttPassword: passwords.get(deviceId),
      ...(opts.topicPrefix === undefined ? {} : { topicPrefix: opts.topicPrefix }),
      ...(opts.resendAfterMs === undefined ? {} : { resendAfterMs: opts.resendAfterMs }),
    }),
    track: lineTrack(opts.from, opts.to, opts.speedKmh, { startTs }),
  }));
  try {
    await Promise.all(devices.map((d) => d.tracker.waitConnected(opts.connectTimeoutMs ?? 10_000)));
  } catch (err) {
    await stopFleet(devices);
    throw new Error(
      `${(err as Error).message} chipwatch embeds the broker: start it with npm start, or pass --mqtt URL`,
      { cause: err },
    );
  }
  return devices;
}

/** Registers every device (a few at a time); resolves with each one's MQTT password. */
async function registerAll(
  opts: FleetOptions,
  devices: readonly { deviceId: string; key: DeviceKey }[],
): Promise<Map<string, string | undefined>> {
  const passwords = new Map<string, string | undefined>();
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < devices.length) {
      const d = devices[next++]!;
      try {
        const body = (await registerDevice(opts.apiUrl, opts.token, d.deviceId, d.key.publicJwk)) as
          | { mqttPassword?: string }
          | undefined;
        passwords.set(d.deviceId, body?.mqttPassword);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(REGISTER_CONCURRENCY, devices.length) }, worker));
  return passwords;
}

export async function stopFleet(devices: readonly SimDevice[]): Promise<void> {
  await Promise.all(devices.map((d) => d.tracker.close()));
}
