// The landmarks a bundle needs: those its attestations measured round-trip times to, and no others (the full
// landmark list is infrastructure the bundle's reader has no use for and need not see).
import type { SignedMessage } from './completeness.ts';
import { parseStrictJson } from './strict-json.ts';

/** The ids of the landmarks the attestations among `messages` cite, ascending; unreadable payloads are skipped. */
export function citedLandmarkIds(messages: SignedMessage[]): string[] {
  const ids = new Set<string>();
  for (const m of messages) {
    if (m.kind !== 'attestation') continue;
    try {
      const part = m.jws.split('.')[1] ?? '';
      const p = parseStrictJson(Buffer.from(part, 'base64url').toString('utf8')) as { landmarks?: unknown };
      for (const l of Array.isArray(p.landmarks) ? p.landmarks : []) {
        const id = (l as { landmarkId?: unknown })?.landmarkId;
        if (typeof id === 'string') ids.add(id);
      }
    } catch {
      // Not an attestation chipwatch accepted: it cites nothing.
    }
  }
  return [...ids].sort();
}

/** `landmarks` narrowed to those the attestations among `messages` cite, in their given order. */
export function landmarksUsed<L extends { id: string }>(messages: SignedMessage[], landmarks: L[]): L[] {
  const cited = new Set(citedLandmarkIds(messages));
  return landmarks.filter((l) => cited.has(l.id));
}
