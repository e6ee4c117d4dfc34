// One Ed25519 verification worker (plain JavaScript so it runs under node, tsx and vitest alike): it receives
// chunks of verifications packed by src/verify/ed25519-pool.ts and answers one byte per item, 1 = valid.
// Chunk layout, one transferred ArrayBuffer: n public keys (32 B each), n signatures (64 B each), then the
// signing inputs back to back; `ends` (a transferred Uint32Array) holds each input's end offset within the inputs.
import { parentPort } from 'node:worker_threads';
import sodium from 'sodium-native';

const PK = 32;
const SIG = 64;

if (!parentPort) throw new Error('ed25519-worker.js runs as a worker thread');
const port = parentPort;

port.on('message', (chunk) => {
  if (chunk.stallMs) {
    // Test hook (Ed25519Pool.stallWorkerForTest): behave like a stuck worker.
    const until = Date.now() + chunk.stallMs;
    while (Date.now() < until) {}
    return;
  }
  const { id, n, buf, ends } = chunk;
  const bytes = new Uint8Array(buf);
  const sigsAt = n * PK;
  const dataAt = sigsAt + n * SIG;
  const results = new Uint8Array(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i];
    const pk = bytes.subarray(i * PK, (i + 1) * PK);
    const sig = bytes.subarray(sigsAt + i * SIG, sigsAt + (i + 1) * SIG);
    const data = bytes.subarray(dataAt + start, dataAt + end);
    let ok = false;
    try {
      ok = sodium.crypto_sign_verify_detached(sig, data, pk) === true;
    } catch {
      ok = false;
    }
    results[i] = ok ? 1 : 0;
    start = end;
  }
  port.postMessage({ id, results }, [results.buffer]);
});
