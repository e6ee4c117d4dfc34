// The few API calls the benchmarks make, as a user would: tokens minted with the JWT secret, trackers registered
// through POST /v1/devices (which, on Mosquitto, also creates their dynsec clients), a webhook channel.
import { mintToken } from '../src/auth.ts';
import type { BenchDevice } from './messages.ts';

export type Role = 'admin' | 'logistics' | 'compliance';

export function benchToken(secret: string, role: Role): Promise<string> {
  return mintToken(new TextEncoder().encode(secret), {
    sub: `bench-${role}`,
    role,
    issuer: 'chipwatch',
    ttlS: 6 * 3600,
  });
}

async function call(httpUrl: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Registers the devices (`parallel` requests at a time); resolves with each one's MQTT password (id → password). */
export async function registerDevices(
  httpUrl: string,
  secret: string,
  devices: BenchDevice[],
  parallel = 8,
): Promise<Record<string, string>> {
  const token = await benchToken(secret, 'admin');
  const passwords: Record<string, string> = {};
  let next = 0;
  const worker = async () => {
    while (next < devices.length) {
      const d = devices[next++]!;
      const body = { id: d.id, publicKeyJwk: d.key.publicJwk };
      let res = await call(httpUrl, token, 'POST', '/v1/devices', body);
      // More devices than the API's burst (RATE_LIMIT_BURST): wait as told and go on.
      for (let tries = 0; res.status === 429 && tries < 120; tries++) {
        await new Promise((r) => setTimeout(r, 1000));
        res = await call(httpUrl, token, 'POST', '/v1/devices', body);
      }
      if (res.status !== 201)
        throw new Error(`registering ${d.id}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      passwords[d.id] = res.body.mqttPassword as string;
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, devices.length) }, worker));
  return passwords;
}

/** GET /v1/ingest/key: the public key acks are signed with. */
export async function ackKeyOf(httpUrl: string): Promise<{ kty: 'OKP'; crv: 'Ed25519'; x: string }> {
  const res = await fetch(`${httpUrl}/v1/ingest/key`);
  if (res.status !== 200) throw new Error(`GET /v1/ingest/key: HTTP ${res.status}`);
  return ((await res.json()) as { publicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string } }).publicJwk;
}

/** A webhook channel for these alert types; resolves with its id (delete it with deleteChannel). */
export async function createWebhookChannel(
  httpUrl: string,
  secret: string,
  url: string,
  types: string[],
): Promise<string> {
  const res = await call(httpUrl, await benchToken(secret, 'admin'), 'POST', '/v1/channels', {
    type: 'webhook',
    url,
    types,
  });
  if (res.status !== 201)
    throw new Error(`creating the webhook channel: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

export async function deleteChannel(httpUrl: string, secret: string, id: string): Promise<void> {
  await call(httpUrl, await benchToken(secret, 'admin'), 'DELETE', `/v1/channels/${id}`);
}
