// Which ingest worker handles a sender when workers route by sender (INGEST_ROUTING=by-sender): rendezvous
// (highest-random-weight) hashing of the sender's topic against every live worker's id. Every worker computes the
// same answer from the same list, and a worker joining or leaving moves only the senders it takes or leaves.

/** A 53-bit string hash (cyrb53: two multiplicative 32-bit lanes); stable across processes and versions of Node. */
export function hash53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The worker of `workers` that owns `key` (a sender's topic); undefined when the list is empty. */
export function ownerOf(key: string, workers: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const w of workers) {
    const weight = hash53(`${w}\u0000${key}`);
    // Ties (vanishingly rare) go to the smaller id, so every worker breaks them alike.
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && w < best)) {
      best = w;
      bestWeight = weight;
    }
  }
  return best;
}
