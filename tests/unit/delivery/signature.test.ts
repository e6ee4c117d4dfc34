// Webhook signatures: what a receiver accepts and why it refuses the rest.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../../../src/delivery/signature.ts';

const SECRET = 'whsec-0123456789abcdef';
const BODY = '{"id":"1","type":"TAMPER","event":{"action":"opened"}}';
const NOW_MS = 1_763_719_200_000;
const TS = NOW_MS / 1000;

const request = (headers: Record<string, string>, body: string = BODY) => ({
  header: (name: string) => headers[name.toLowerCase()],
  body,
});
const signed = (over: Partial<Record<string, string>> = {}, body = BODY, ts = TS, secret = SECRET) =>
  request(
    {
      'x-chipwatch-timestamp': String(ts),
      'x-chipwatch-delivery': 'd-1',
      'x-chipwatch-signature': signWebhook(secret, ts, body),
      ...over,
    } as Record<string, string>,
    body,
  );

describe('webhook signatures', () => {
  it('signs as DESIGN.md says: v1=<hex HMAC-SHA256 over "{timestamp}.{body}">', () => {
    const expected = createHmac('sha256', SECRET).update(`${TS}.${BODY}`).digest('hex');
    expect(signWebhook(SECRET, TS, BODY)).toBe(`v1=${expected}`);
  });

  it('accepts a fresh, correctly signed request and hands back its delivery id', () => {
    expect(verifyWebhook(signed(), SECRET, { nowMs: NOW_MS })).toEqual({
      ok: true,
      deliveryId: 'd-1',
      timestampS: TS,
    });
  });

  it('refuses a body changed by one byte', () => {
    const req = signed();
    expect(
      verifyWebhook({ ...req, body: BODY.replace('TAMPER', 'TAMPEr') }, SECRET, { nowMs: NOW_MS }),
    ).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
  });

  it('refuses a signature made with another secret', () => {
    expect(
      verifyWebhook(signed({}, BODY, TS, 'another-secret-000000'), SECRET, { nowMs: NOW_MS }),
    ).toMatchObject({
      reason: 'BAD_SIGNATURE',
    });
  });

  it('refuses a captured request replayed with a new timestamp (the timestamp is signed)', () => {
    const req = signed({ 'x-chipwatch-timestamp': String(TS + 60) });
    expect(verifyWebhook(req, SECRET, { nowMs: NOW_MS })).toMatchObject({ reason: 'BAD_SIGNATURE' });
  });

  it('refuses a timestamp older or newer than the tolerance (default 5 min)', () => {
    expect(verifyWebhook(signed({}, BODY, TS - 301), SECRET, { nowMs: NOW_MS })).toMatchObject({
      reason: 'TIMESTAMP_OUT_OF_RANGE',
    });
    expect(verifyWebhook(signed({}, BODY, TS + 301), SECRET, { nowMs: NOW_MS })).toMatchObject({
      reason: 'TIMESTAMP_OUT_OF_RANGE',
    });
    expect(verifyWebhook(signed({}, BODY, TS - 299), SECRET, { nowMs: NOW_MS }).ok).toBe(true);
  });

  it('refuses missing headers and a timestamp that is not epoch seconds', () => {
    expect(verifyWebhook(request({}), SECRET, { nowMs: NOW_MS })).toMatchObject({ reason: 'MISSING_HEADER' });
    expect(verifyWebhook(signed({ 'x-chipwatch-timestamp': '2026-11-21T10:00:00Z' }), SECRET)).toMatchObject({
      reason: 'BAD_TIMESTAMP',
    });
  });

  it('accepts either of two secrets while one is being rotated, and a header naming several signatures', () => {
    expect(verifyWebhook(signed(), ['new-secret-0000000000', SECRET], { nowMs: NOW_MS }).ok).toBe(true);
    const both = `${signWebhook('old-secret-0000000000', TS, BODY)}, ${signWebhook(SECRET, TS, BODY)}`;
    expect(verifyWebhook(signed({ 'x-chipwatch-signature': both }), SECRET, { nowMs: NOW_MS }).ok).toBe(true);
  });

  it('refuses a truncated signature without throwing', () => {
    const short = signWebhook(SECRET, TS, BODY).slice(0, 20);
    expect(
      verifyWebhook(signed({ 'x-chipwatch-signature': short }), SECRET, { nowMs: NOW_MS }),
    ).toMatchObject({
      reason: 'BAD_SIGNATURE',
    });
  });
});
