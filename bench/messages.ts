// Bench devices and their pre-signed telemetry, written as JSON lines for the publisher process: signing happens
// before the clock starts, so the figures measure chipwatch, not the trackers.
import { writeFileSync } from 'node:fs';
import { type DeviceKey, generateDeviceKey } from '../device-sim/keys.ts';
import { buildTelemetry, signCompactJws, type TelemetryRecord } from '../device-sim/signer.ts';

export interface BenchDevice {
  id: string;
  key: DeviceKey;
  /** The next unused seq: seqs rise strictly per device across scenarios. */
  nextSeq: number;
}

/** One line of the messages file: device, seq, record count, compact JWS. */
export interface SignedLine {
  d: string;
  s: number;
  n: number;
  j: string;
}

export function makeDevices(count: number, prefix = 'bench'): BenchDevice[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${String(i + 1).padStart(4, '0')}`,
    key: generateDeviceKey('EdDSA'),
    nextSeq: 1,
  }));
}

function records(deviceIndex: number, seq: number, count: number, nowMs: number): TelemetryRecord[] {
  // A slow walk south-east of Kaohsiung, one fix every 30 s, the newest a few seconds old.
  return Array.from({ length: count }, (_, i) => {
    const step = seq * count + i;
    return {
      ts: nowMs - (count - i) * 30_000,
      lat: 22.61 - deviceIndex * 0.01 - step * 1e-5,
      lon: 120.27 + step * 1e-5,
      altM: 12,
      speedKmh: 31.2,
      headingDeg: 135,
      hdop: 0.9,
      satellites: 11,
      batteryPct: 88,
      temperatureC: 21.5,
      lightLux: 0,
      tamper: false,
    };
  });
}

/**
 * Signs `messages` telemetry messages of `recordsPerMessage` fixes, round-robin across `devices` (advancing each
 * device's seq); one SignedLine each, in publishing order.
 */
export function signMessages(
  devices: BenchDevice[],
  messages: number,
  recordsPerMessage: number,
  nowMs: number = Date.now(),
): SignedLine[] {
  const lines: SignedLine[] = [];
  for (let k = 0; k < messages; k++) {
    const index = k % devices.length;
    const device = devices[index]!;
    const seq = device.nextSeq++;
    const jws = signCompactJws(
      buildTelemetry(device.id, seq, records(index, seq, recordsPerMessage, nowMs), nowMs),
      device.key,
    );
    lines.push({ d: device.id, s: seq, n: recordsPerMessage, j: jws });
  }
  return lines;
}

/** Writes signed lines as the publisher's JSON-lines file; returns the totals written. */
export function writeLines(
  file: string,
  lines: SignedLine[],
): { messages: number; records: number; bytes: number } {
  writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  return {
    messages: lines.length,
    records: lines.reduce((s, l) => s + l.n, 0),
    bytes: lines.reduce((s, l) => s + l.j.length, 0),
  };
}

/**
 * Signs `messages` telemetry messages of `recordsPerMessage` fixes, round-robin across `devices` (advancing
 * each device's seq), and writes them to `file`. Returns the totals written.
 */
export function writeSignedMessages(
  file: string,
  devices: BenchDevice[],
  messages: number,
  recordsPerMessage: number,
): { messages: number; records: number; bytes: number } {
  return writeLines(file, signMessages(devices, messages, recordsPerMessage));
}

/**
 * One message that raises an alert at once: a single fix in Shanghai (China is a restricted country) from a tracker
 * bound to no shipment (src/checks/run.ts runUnboundChecks: RESTRICTED_ZONE_ENTERED). Each alert device sends one,
 * so each opens an alert of its own (a second one would only update it, and updates notify at most once a minute).
 */
export function signAlertMessage(device: BenchDevice, index: number, nowMs: number = Date.now()): SignedLine {
  const seq = device.nextSeq++;
  const fix: TelemetryRecord = {
    ts: nowMs - 5_000,
    lat: Math.round((31.2 + (index % 100) * 0.001) * 1e6) / 1e6,
    lon: Math.round((121.45 + Math.floor(index / 100) * 0.001) * 1e6) / 1e6,
    speedKmh: 0,
    hdop: 0.9,
    satellites: 11,
    batteryPct: 80,
  };
  const jws = signCompactJws(buildTelemetry(device.id, seq, [fix], nowMs), device.key);
  return { d: device.id, s: seq, n: 1, j: jws };
}
