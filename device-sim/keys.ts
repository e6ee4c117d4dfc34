// A tracker's signing key: a fresh Ed25519 or P-256 key pair and the public JWK to register with chipwatch.
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';

export type DeviceAlg = 'EdDSA' | 'ES256';

/** What `POST /v1/devices` expects in `publicKeyJwk`: public members only, pinned to one algorithm. */
export interface DevicePublicJwk {
  kty: 'OKP' | 'EC';
  crv: 'Ed25519' | 'P-256';
  x: string;
  y?: string;
  kid: string;
  alg: DeviceAlg;
}

export interface DeviceKey {
  alg: DeviceAlg;
  kid: string;
  privateKey: KeyObject;
  publicJwk: DevicePublicJwk;
}

export function generateDeviceKey(alg: DeviceAlg = 'EdDSA'): DeviceKey {
  const { privateKey, publicKey } =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `k-${randomBytes(6).toString('hex')}`;
  const exported = publicKey.export({ format: 'jwk' });
  const publicJwk: DevicePublicJwk = {
    kty: exported.kty as DevicePublicJwk['kty'],
    crv: exported.crv as DevicePublicJwk['crv'],
    x: exported.x as string,
    ...(exported.y === undefined ? {} : { y: exported.y }),
    kid,
    alg,
  };
  return { alg, kid, privateKey, publicJwk };
}
