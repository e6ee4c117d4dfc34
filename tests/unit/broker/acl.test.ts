// The broker's rules as pure functions: who may publish, subscribe and use which client id; packet size framing;
// password hashing.
import { describe, expect, it } from 'vitest';
import {
  keepsRetain,
  mayPublish,
  maySubscribe,
  mayUseClientId,
  type Principal,
} from '../../../src/broker/acl.ts';
import { PacketSizeGuard } from '../../../src/broker/packet-guard.ts';
import { generatePassword, hashPassword, verifyPassword } from '../../../src/broker/password.ts';

const P = 'chipwatch/v1';
const trk: Principal = { kind: 'device', id: 'trk-1' };
const site: Principal = { kind: 'site', id: 'dc-1' };
const service: Principal = { kind: 'service' };

describe('publish rules', () => {
  it('lets a tracker publish only its own telemetry', () => {
    expect(mayPublish(trk, P, 'chipwatch/v1/devices/trk-1/telemetry')).toBe(true);
    expect(mayPublish(trk, P, 'chipwatch/v1/devices/trk-2/telemetry')).toBe(false);
    expect(mayPublish(trk, P, 'chipwatch/v1/devices/trk-1/ack')).toBe(false);
    expect(mayPublish(trk, P, 'chipwatch/v1/sites/trk-1/attestations')).toBe(false);
    expect(mayPublish(trk, P, 'elsewhere/topic')).toBe(false);
  });

  it('lets a site publish only its own attestations', () => {
    expect(mayPublish(site, P, 'chipwatch/v1/sites/dc-1/attestations')).toBe(true);
    expect(mayPublish(site, P, 'chipwatch/v1/sites/dc-1/ack')).toBe(false);
    expect(mayPublish(site, P, 'chipwatch/v1/devices/dc-1/telemetry')).toBe(false);
  });

  it('lets only the service user publish acks; no one publishes wildcards or NULs', () => {
    expect(mayPublish(service, P, 'chipwatch/v1/devices/trk-1/ack')).toBe(true);
    expect(mayPublish(service, P, 'chipwatch/v1/devices/+/ack')).toBe(false);
    expect(mayPublish(trk, P, 'chipwatch/v1/devices/trk-1/telemetry\0')).toBe(false);
  });

  it('drops the retain flag on chipwatch topics only', () => {
    expect(keepsRetain(P, 'chipwatch/v1/devices/trk-1/ack')).toBe(false);
    expect(keepsRetain(P, 'chipwatch/v1')).toBe(false);
    expect(keepsRetain(P, 'chipwatch/v10/x')).toBe(true);
    expect(keepsRetain(P, 'ops/alerts')).toBe(true);
  });
});

describe('subscribe rules', () => {
  it('lets a tracker subscribe to its own ack topic and nothing else', () => {
    expect(maySubscribe(trk, P, 'chipwatch/v1/devices/trk-1/ack')).toBe(true);
    for (const filter of [
      '#',
      '+/#',
      'chipwatch/#',
      'chipwatch/v1/devices/+/ack',
      'chipwatch/v1/devices/trk-2/ack',
      'chipwatch/v1/devices/trk-1/telemetry',
      'chipwatch/v1/devices/+/telemetry',
      '$share/g/chipwatch/v1/devices/+/telemetry',
      '$share/g/chipwatch/v1/devices/trk-1/ack',
      '$SYS/#',
    ]) {
      expect(maySubscribe(trk, P, filter), filter).toBe(false);
    }
  });

  it('lets a site subscribe to its own ack topic only', () => {
    expect(maySubscribe(site, P, 'chipwatch/v1/sites/dc-1/ack')).toBe(true);
    expect(maySubscribe(site, P, 'chipwatch/v1/sites/+/attestations')).toBe(false);
  });

  it('lets the service user read telemetry and attestations, shared or not', () => {
    expect(maySubscribe(service, P, '$share/ingest/chipwatch/v1/devices/+/telemetry')).toBe(true);
    expect(maySubscribe(service, P, 'chipwatch/v1/sites/+/attestations')).toBe(true);
  });
});

describe('client ids', () => {
  it('holds a tracker or site to its own id, so no one takes the ingest session or another tracker', () => {
    expect(mayUseClientId(trk, 'trk-1')).toBe(true);
    expect(mayUseClientId(trk, 'chipwatch-ingest')).toBe(false);
    expect(mayUseClientId(trk, 'trk-10')).toBe(false);
    expect(mayUseClientId(trk, '')).toBe(false);
    expect(mayUseClientId(site, 'dc-1')).toBe(true);
    expect(mayUseClientId(service, 'chipwatch-ingest')).toBe(true);
  });
});

/** A PUBLISH header announcing `length` bytes after the length field. */
function header(length: number): Buffer {
  const bytes = [0x32];
  let n = length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

describe('packet size guard', () => {
  it('passes packets up to the limit, split across chunks at any byte', () => {
    const packets = Buffer.concat([
      header(100),
      Buffer.alloc(100),
      header(0),
      header(1000),
      Buffer.alloc(1000),
    ]);
    for (const step of [1, 7, 64, packets.length]) {
      const g = new PacketSizeGuard(1003);
      let ok = true;
      for (let i = 0; i < packets.length; i += step) ok &&= g.feed(packets.subarray(i, i + step));
      expect(ok, `chunks of ${step}`).toBe(true);
    }
  });

  it('stops at the header of a packet announcing more than the limit, before its body arrives', () => {
    const g = new PacketSizeGuard(80 * 1024);
    expect(g.feed(Buffer.concat([header(10), Buffer.alloc(10)]))).toBe(true);
    expect(g.feed(header(200 * 1024 * 1024))).toBe(false);
  });

  it('stops at a length field longer than four bytes', () => {
    expect(new PacketSizeGuard(1 << 30).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(false);
  });
});

describe('passwords', () => {
  it('verifies the password it hashed and nothing else; each hash is salted', async () => {
    const pw = generatePassword();
    expect(pw).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const h1 = await hashPassword(pw);
    const h2 = await hashPassword(pw);
    expect(h1).not.toBe(h2);
    expect(h1.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword(pw, h1)).toBe(true);
    expect(await verifyPassword(`${pw}x`, h1)).toBe(false);
    expect(await verifyPassword(pw, 'scrypt$1024$8$1$bad')).toBe(false);
    expect(await verifyPassword(pw, 'plain')).toBe(false);
  });
});
