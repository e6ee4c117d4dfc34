// Who signed a message, for trackers and sites alike: the kid must name a registered key, of the sender the topic
// names, pinned to the algorithm the header claims, and the signature must verify. Throws the Rejection it broke.
import type { KeyObject } from 'node:crypto';
import { Rejection } from '../domain/errors.ts';
import { type ParsedJws, verifySignature } from './jws.ts';
import type { SigningAlg } from './keys.ts';

export interface SignerKey {
  /** The device or site the key belongs to. */
  ownerId: string;
  alg: SigningAlg;
  key: KeyObject;
}

export async function checkSigner(
  jws: ParsedJws,
  entry: SignerKey | undefined,
  owner: { kind: 'device' | 'site'; id: string },
): Promise<void> {
  if (!entry) {
    const which = owner.kind === 'site' ? 'site key' : 'key';
    throw new Rejection('UNKNOWN_KEY', `no registered ${which} with kid "${jws.kid.slice(0, 128)}"`);
  }
  if (entry.ownerId !== owner.id) {
    throw new Rejection(
      'SUBJECT_MISMATCH',
      `key "${jws.kid}" belongs to ${owner.kind} ${entry.ownerId}, not to the topic's ${owner.kind}`,
    );
  }
  if (entry.alg !== jws.alg) {
    throw new Rejection('ALG_NOT_ALLOWED', `key "${jws.kid}" is pinned to ${entry.alg}, not ${jws.alg}`);
  }
  if (!(await verifySignature(jws, entry.key)))
    throw new Rejection('SIGNATURE_INVALID', 'the signature does not verify');
}
