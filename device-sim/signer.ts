// Signs telemetry as a compact JWS (RFC 7515) the way a tracker does: node:crypto, raw r||s for ES256.
import { sign } from 'node:crypto';
import type { DeviceKey } from './keys.ts';

export const TELEMETRY_TYP = 'chipwatch-telemetry+jws';
export const ATTESTATION_TYP = 'chipwatch-attestation+jws';

export type SigningKey = Pick<DeviceKey, 'alg' | 'kid' | 'privateKey'>;

/** A fix and a message as the wire protocol carries them: the schema chipwatch validates is the one source. */
import type { TelemetryPayload, TelemetryRecord } from '../src/verify/telemetry-schema.ts';

export type { TelemetryPayload, TelemetryRecord };

export function buildTelemetry(
  deviceId: string,
  seq: number,
  records: TelemetryRecord[],
  sentAt: number = Date.now(),
): TelemetryPayload {
  return { v: 1, deviceId, seq, sentAt, records };
}

/**
 * `extraHeader` is spread after alg/kid/typ so attack tests can add forbidden members or lie about `alg`;
 * the signature itself always uses the key's own algorithm.
 */
export function signCompactJws(
  payload: object | string | Buffer,
  key: SigningKey,
  typ: string = TELEMETRY_TYP,
  extraHeader?: Record<string, unknown>,
): string {
  const header = { alg: key.alg, kid: key.kid, typ, ...extraHeader };
  const body = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
  const signingInput = `${Buffer.from(JSON.stringify(header), 'utf8').toString('base64url')}.${body.toString('base64url')}`;
  const data = Buffer.from(signingInput, 'latin1');
  // JWS wants ES256 as 64 raw bytes, not node's default DER.
  const signature =
    key.alg === 'EdDSA'
      ? sign(null, data, key.privateKey)
      : sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}
