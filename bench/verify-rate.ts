// The wall of the pipeline, measured alone: Ed25519 verifies per second with node:crypto, synchronously on one
// core and asynchronously on libuv's thread pool (callback form, many in flight), over a realistic signing input.
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { generateDeviceKey } from '../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../device-sim/signer.ts';

export interface VerifyRates {
  syncPerS: number;
  asyncPerS: number;
  inFlight: number;
  threadPool: number;
  signingInputBytes: number;
}

interface Sample {
  data: Buffer;
  sig: Buffer;
  publicKey: KeyObject;
}

/** One signed one-record telemetry message, split the way the pipeline splits it. */
function sample(): Sample {
  const key = generateDeviceKey('EdDSA');
  const now = Date.now();
  const jws = signCompactJws(
    buildTelemetry('bench-0000', 1, [
      {
        ts: now,
        lat: 22.61,
        lon: 120.27,
        altM: 12,
        speedKmh: 31.2,
        headingDeg: 270,
        hdop: 0.9,
        satellites: 11,
      },
    ]),
    key,
  );
  const cut = jws.lastIndexOf('.');
  return {
    data: Buffer.from(jws.slice(0, cut), 'latin1'),
    sig: Buffer.from(jws.slice(cut + 1), 'base64url'),
    publicKey: createPublicKey(key.privateKey),
  };
}

/** Synchronous verifies in a loop for about `durationMs`: the single-core limit. */
export function measureSync(s: Sample, durationMs = 1000): number {
  for (let i = 0; i < 200; i++) verify(null, s.data, s.publicKey, s.sig); // warm-up
  let n = 0;
  let elapsed = 0;
  const start = performance.now();
  while (elapsed < durationMs) {
    for (let i = 0; i < 100; i++) {
      if (!verify(null, s.data, s.publicKey, s.sig)) throw new Error('benchmark signature did not verify');
    }
    n += 100;
    elapsed = performance.now() - start;
  }
  return (n / elapsed) * 1000;
}

/** Callback verifies with `inFlight` outstanding for about `durationMs`: what the thread pool gives. */
export function measureAsync(s: Sample, durationMs: number, inFlight: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let done = 0;
    let stopped = false;
    const start = performance.now();
    const launch = () => {
      verify(null, s.data, s.publicKey, s.sig, (err, ok) => {
        if (stopped) return;
        if (err || !ok) {
          stopped = true;
          reject(err ?? new Error('benchmark signature did not verify'));
          return;
        }
        done++;
        const elapsed = performance.now() - start;
        if (elapsed >= durationMs) {
          stopped = true;
          resolve((done / elapsed) * 1000);
        } else {
          launch();
        }
      });
    };
    for (let i = 0; i < inFlight; i++) launch();
  });
}

/** The synchronous rate alone, measured again at the end of a run: a shared machine's speed drifts. */
export function measureSyncRate(durationMs = 1000): number {
  return measureSync(sample(), durationMs);
}

export async function measureVerifyRates(durationMs = 1000): Promise<VerifyRates> {
  const s = sample();
  const inFlight = 256;
  const syncPerS = measureSync(s, durationMs);
  const asyncPerS = await measureAsync(s, durationMs, inFlight);
  return {
    syncPerS,
    asyncPerS,
    inFlight,
    threadPool: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    signingInputBytes: s.data.length,
  };
}
