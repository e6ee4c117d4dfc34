// The options of `npm run sim` as the sub-commands receive them, and the parsers that turn its arguments into them.
import { InvalidArgumentError } from 'commander';
import type { LatLon } from '../src/geo/types.ts';
import type { DeviceAlg } from './keys.ts';

export interface Opts {
  api: string;
  mqtt: string;
  token?: string;
  dataDir: string;
  scenario?: string;
  speedup: number;
  seed: number;
  settle: number;
  json?: boolean;
  load?: boolean;
  loadFile?: string;
  ackKeyFile?: string;
  credentialsFile?: string;
  messages?: number;
  window: number;
  connections: number;
  devices?: number;
  rate?: number;
  duration: number;
  records: number;
  from: LatLon;
  to: LatLon;
  speed: number;
  alg: DeviceAlg;
  prefix: string;
  idPrefix: string;
}

export function positiveNumber(what: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a number above 0`);
    return n;
  };
}

export function intIn(what: string, min: number, max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${what} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

export function latLon(v: string): LatLon {
  const parts = v.split(',').map((s) => s.trim());
  const lat = Number(parts[0]);
  const lon = Number(parts[1]);
  // Number('') is 0: an empty part must not silently mean the equator or the prime meridian.
  if (parts.length !== 2 || parts.includes('') || !Number.isFinite(lat) || !Number.isFinite(lon)) {
    throw new InvalidArgumentError('expected "lat,lon" in degrees, e.g. 22.61,120.27');
  }
  if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) {
    throw new InvalidArgumentError('latitude must lie in [-90, 90] and longitude in [-180, 180]');
  }
  return { lat, lon };
}

export function nonNegative(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('speed must be a number of km/h, 0 or more');
  return n;
}
