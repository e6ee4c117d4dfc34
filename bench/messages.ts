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
 * Signs `messages` telemetry messages of `recordsPerMessage` fixes, round-robin across `devices` (advancing
 * each device's seq), and writes them to `file`. Returns the totals written.
 */
export function writeSignedMessages(
  file: string,
  devices: BenchDevice[],
  messages: number,
  recordsPerMessage: number,
): { messages: number; records: number; bytes: number } {
  const nowMs = Date.now();
  const lines: string[] = [];
  let bytes = 0;
  for (let k = 0; k < messages; k++) {
    const index = k % devices.length;
    const device = devices[index]!;
    const seq = device.nextSeq++;
    const jws = signCompactJws(
      buildTelemetry(device.id, seq, records(index, seq, recordsPerMessage, nowMs), nowMs),
      device.key,
    );
    bytes += jws.length;
    const line: SignedLine = { d: device.id, s: seq, n: recordsPerMessage, j: jws };
    lines.push(JSON.stringify(line));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { messages, records: messages * recordsPerMessage, bytes };
}
