// The wall of the pipeline, measured alone: Ed25519 verifies per second with node:crypto, synchronously on one
// core and asynchronously on libuv's thread pool (callback form, many in flight), and with libsodium on chipwatch's
// Ed25519 worker pool (VERIFY_WORKERS), over a realistic signing input. `npx tsx bench/verify-rate.ts` prints them.
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { generateDeviceKey } from '../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../device-sim/signer.ts';
import { Ed25519Pool } from '../src/verify/ed25519-pool.ts';

export interface VerifyRates {
  syncPerS: number;
  asyncPerS: number;
  inFlight: number;
  threadPool: number;
  /** libsodium on the Ed25519 worker pool (what ingest uses with VERIFY_WORKERS ≥ 1), `inFlight` outstanding. */
  sodiumWorkersPerS: number;
  sodiumWorkers: number;
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

/** libsodium on an Ed25519 worker pool of `workers` threads with `inFlight` outstanding for about `durationMs`. */
export async function measureSodiumWorkers(
  s: Sample,
  durationMs: number,
  inFlight: number,
  workers: number,
): Promise<number> {
  const pool = new Ed25519Pool(workers);
  const pk = Buffer.from(s.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  try {
    const run = async (ms: number) => {
      let done = 0;
      const start = performance.now();
      const lane = async () => {
        while (performance.now() - start < ms) {
          if (!(await pool.verify(s.data, s.sig, pk))) throw new Error('benchmark signature did not verify');
          done++;
        }
      };
      await Promise.all(Array.from({ length: inFlight }, lane));
      return (done / (performance.now() - start)) * 1000;
    };
    await run(100); // warm-up: workers start, libsodium loads
    return await run(durationMs);
  } finally {
    await pool.close();
  }
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
  const sodiumWorkers = Math.max(1, availableParallelism());
  const sodiumWorkersPerS = await measureSodiumWorkers(s, durationMs, inFlight, sodiumWorkers);
  return {
    syncPerS,
    asyncPerS,
    inFlight,
    threadPool: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    sodiumWorkersPerS,
    sodiumWorkers,
    signingInputBytes: s.data.length,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await measureVerifyRates();
  const s = sample();
  const oneWorker = await measureSodiumWorkers(s, 1000, r.inFlight, 1);
  const rows: [string, number][] = [
    ['node:crypto, synchronous, one core', r.syncPerS],
    [`node:crypto, libuv thread pool (${r.threadPool} threads)`, r.asyncPerS],
    ['sodium-native, 1 worker thread', oneWorker],
    [`sodium-native, ${r.sodiumWorkers} worker threads`, r.sodiumWorkersPerS],
  ];
  process.stdout.write(
    `Ed25519 verifies/s, ${r.signingInputBytes} B signing input, ${availableParallelism()} cores, ` +
      `${r.inFlight} in flight for the asynchronous ones:\n` +
      rows
        .map(([what, n]) => `  ${what.padEnd(44)} ${Math.round(n).toLocaleString('en-US').padStart(7)}/s\n`)
        .join(''),
  );
}
