// verifyWebhook at its edges, as a receiver runs it: header names in any case, array-valued headers (Node's
// IncomingMessage), a Buffer body, each refusal with its reason, and the tolerance inclusive.
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../../../src/delivery/signature.ts';

const SECRET = 'whsec-boundaries';
const BODY = '{"id":"7"}';
const NOW_MS = 1_763_719_200_000;
const TS = NOW_MS / 1000;
const headers = (ts = TS, body = BODY) => ({
  'X-Chipwatch-Timestamp': String(ts),
  'X-Chipwatch-Delivery': 'd-7',
  'X-Chipwatch-Signature': signWebhook(SECRET, ts, body),
});
const exact = (h: Record<string, string | string[] | undefined>, body: string | Buffer = BODY) => ({
  header: (name: string) => h[name],
  body,
});
const lower = (h: Record<string, string>) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

describe('verifyWebhook edges', () => {
  it('reads headers by their canonical name, or lower-cased', () => {
    expect(verifyWebhook(exact(headers()), SECRET, { nowMs: NOW_MS })).toEqual({
      ok: true,
      deliveryId: 'd-7',
      timestampS: TS,
    });
    expect(verifyWebhook(exact(lower(headers())), SECRET, { nowMs: NOW_MS })).toEqual({
      ok: true,
      deliveryId: 'd-7',
      timestampS: TS,
    });
  });

  it('takes the first value of a repeated header, and a Buffer body', () => {
    const h = headers();
    const arrays = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, [v, 'junk']]));
    expect(verifyWebhook(exact(arrays, Buffer.from(BODY)), SECRET, { nowMs: NOW_MS })).toMatchObject({
      ok: true,
    });
  });

  it('says MISSING_HEADER when either the timestamp or the signature is missing; no delivery id is fine', () => {
    const { 'X-Chipwatch-Timestamp': _t, ...noTs } = headers();
    const { 'X-Chipwatch-Signature': _s, ...noSig } = headers();
    const { 'X-Chipwatch-Delivery': _d, ...noDelivery } = headers();
    expect(verifyWebhook(exact(noTs), SECRET, { nowMs: NOW_MS })).toEqual({
      ok: false,
      reason: 'MISSING_HEADER',
    });
    expect(verifyWebhook(exact(noSig), SECRET, { nowMs: NOW_MS })).toEqual({
      ok: false,
      reason: 'MISSING_HEADER',
    });
    expect(verifyWebhook(exact(noDelivery), SECRET, { nowMs: NOW_MS })).toEqual({
      ok: true,
      deliveryId: undefined,
      timestampS: TS,
    });
  });

  it('says BAD_TIMESTAMP for anything but 1 to 12 digits', () => {
    for (const t of ['', '1.5', '-1', ' 1', '1 ', 'x1', '1x', '1234567890123']) {
      expect(
        verifyWebhook(exact({ ...headers(), 'X-Chipwatch-Timestamp': t }), SECRET, { nowMs: NOW_MS }),
      ).toEqual({
        ok: false,
        reason: 'BAD_TIMESTAMP',
      });
    }
  });

  it('takes a timestamp exactly at the tolerance either way, refuses one second beyond', () => {
    for (const ts of [TS - 300, TS + 300])
      expect(verifyWebhook(exact(headers(ts)), SECRET, { nowMs: NOW_MS })).toMatchObject({ ok: true });
    for (const ts of [TS - 301, TS + 301])
      expect(verifyWebhook(exact(headers(ts)), SECRET, { nowMs: NOW_MS })).toEqual({
        ok: false,
        reason: 'TIMESTAMP_OUT_OF_RANGE',
      });
    expect(verifyWebhook(exact(headers(TS - 10)), SECRET, { nowMs: NOW_MS, toleranceS: 9 })).toEqual({
      ok: false,
      reason: 'TIMESTAMP_OUT_OF_RANGE',
    });
  });

  it('finds the v1 signature among others separated by commas and spaces; ignores other schemes', () => {
    const h = headers();
    const v1 = h['X-Chipwatch-Signature'];
    const hex = v1.slice(3);
    const with_ = (s: string) =>
      verifyWebhook(exact({ ...h, 'X-Chipwatch-Signature': s }), SECRET, { nowMs: NOW_MS });
    expect(with_(`v0=abcd, ${v1}`)).toMatchObject({ ok: true });
    expect(with_(`${v1} ,v0=abcd`)).toMatchObject({ ok: true });
    expect(with_(`v2=${hex}`)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(with_(hex)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });
});
