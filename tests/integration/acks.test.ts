// What the ingest lets chipwatch acknowledge, against a real PostgreSQL: contiguous acks over lost and reordered
// messages, a bad message refused alone inside a batch of good ones, and the one-by-one fallback when the database
// refuses one message of a batch. The pipeline is driven directly (no broker): what it returns is what gets signed.
import { describe, expect, it } from 'vitest';
import { type DeviceKey, generateDeviceKey } from '../../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../../device-sim/signer.ts';
import { insertDevice } from '../../src/db/devices.ts';
import { revokeSender } from '../../src/db/revocation.ts';
import { insertSite } from '../../src/db/sites.ts';
import type { Inbound } from '../../src/domain/messages.ts';
import { BatchProcessor } from '../../src/ingest/batch-processor.ts';
import { IngestPipeline } from '../../src/ingest/pipeline.ts';
import { createLogger } from '../../src/log.ts';
import { createMetrics } from '../../src/metrics.ts';
import { normalizePublicJwk } from '../../src/verify/keys.ts';
import { pipelineTestOptions, useMigratedPools } from '../helpers/pipeline.ts';

const opts = pipelineTestOptions();
const db = useMigratedPools();

async function device(id: string): Promise<DeviceKey> {
  const key = generateDeviceKey();
  expect(await insertDevice(db.pools[0]!, id, normalizePublicJwk(key.publicJwk), 'test')).toBe(true);
  return key;
}

const message = (id: string, key: DeviceKey, seq: number, lat = 10): Inbound => ({
  topic: `chipwatch/v1/devices/${id}/telemetry`,
  payload: Buffer.from(
    signCompactJws(buildTelemetry(id, seq, [{ ts: Date.now() - 60_000 + seq, lat, lon: 20 }]), key),
  ),
  receivedAt: Date.now(),
});

async function ingest(p: IngestPipeline, batch: Inbound[]) {
  return p.commit(await p.screen(batch));
}

describe('contiguous acks over a real database', () => {
  it('never claims the lost 6 and 7 of 10, 8, 9, 5, and reaches 10 once they are resent', async () => {
    const key = await device('trk-gap');
    const p = new IngestPipeline(db.pools[0]!, opts);
    const first = [1, 2, 3, 4].map((s) => message('trk-gap', key, s));
    expect((await ingest(p, first)).acks.get('trk-gap')).toEqual({ seq: 4, sack: [] });
    const claims: { seq: number; sack: number[] }[] = [];
    for (const seq of [10, 8, 9, 5])
      claims.push((await ingest(p, [message('trk-gap', key, seq)])).acks.get('trk-gap')!);
    expect(claims).toEqual([
      { seq: 4, sack: [10] },
      { seq: 4, sack: [8, 10] },
      { seq: 4, sack: [8, 9, 10] },
      { seq: 5, sack: [8, 9, 10] },
    ]);
    for (const a of claims) expect(a.seq < 6 && !a.sack.includes(6) && !a.sack.includes(7)).toBe(true);
    expect(
      (await ingest(p, [message('trk-gap', key, 7), message('trk-gap', key, 6)])).acks.get('trk-gap'),
    ).toEqual({
      seq: 10,
      sack: [],
    });
    // The floor is kept: a resend of 3 is a duplicate, and the ack still says 10.
    const again = await ingest(p, [first[2]!]);
    expect(again.verdicts[0]?.kind).toBe('duplicate');
    expect(again.acks.get('trk-gap')).toEqual({ seq: 10, sack: [] });
  });

  it('keeps a seq refused for good as used: after 1–3, 5 refused and then 4, the ack reaches 5', async () => {
    const key = await device('trk-refused-gap');
    const p = new IngestPipeline(db.pools[0]!, opts);
    await ingest(
      p,
      [1, 2, 3].map((s) => message('trk-refused-gap', key, s)),
    );
    const badFive: Inbound = {
      topic: 'chipwatch/v1/devices/trk-refused-gap/telemetry',
      payload: Buffer.from(
        signCompactJws(
          { ...buildTelemetry('trk-refused-gap', 5, [{ ts: Date.now() - 1000, lat: 1, lon: 2 }]), v: 2 },
          key,
        ),
      ),
      receivedAt: Date.now(),
    };
    expect((await ingest(p, [badFive])).acks.get('trk-refused-gap')).toEqual({ seq: 3, sack: [5] });
    // In a later batch 4 closes the gap: the floor passes the refused 5 too.
    expect((await ingest(p, [message('trk-refused-gap', key, 4)])).acks.get('trk-refused-gap')).toEqual({
      seq: 5,
      sack: [],
    });
  });

  it('acks one device without claiming another device’s messages of the same batch', async () => {
    const [a, b] = [await device('trk-a1'), await device('trk-b1')];
    const p = new IngestPipeline(db.pools[0]!, opts);
    const out = await ingest(p, [message('trk-a1', a, 1), message('trk-b1', b, 2)]);
    expect(out.acks.get('trk-a1')).toEqual({ seq: 1, sack: [] });
    // trk-b1's seq 1 never came: 2 is sacked, not claimed.
    expect(out.acks.get('trk-b1')).toEqual({ seq: 0, sack: [2] });
  });
});

describe('one bad message costs only itself', () => {
  it('stores a NUL-topic message as refused (its topic escaped) and commits and acks the good ones of its batch', async () => {
    const key = await device('trk-nul');
    const p = new IngestPipeline(db.pools[0]!, opts);
    const good = [1, 2, 3].map((s) => message('trk-nul', key, s));
    const nul: Inbound = {
      ...message('trk-nul', key, 4),
      topic: 'chipwatch/v1/devices/trk-\u0000nul/telemetry',
    };
    const out = await ingest(p, [good[0]!, nul, good[1]!, good[2]!]);
    expect(out.verdicts.map((v) => v.kind)).toEqual(['accepted', 'rejected', 'accepted', 'accepted']);
    expect(out.verdicts[1]).toMatchObject({ kind: 'rejected', reason: 'MALFORMED', authenticated: false });
    expect(out.acks.get('trk-nul')).toEqual({ seq: 3, sack: [] });
    const stored = await db.pools[0]!.query(
      "SELECT topic FROM rejections WHERE topic LIKE 'chipwatch/v1/devices/trk-%nul/telemetry'",
    );
    expect(stored.rows.map((r) => r.topic)).toEqual(['chipwatch/v1/devices/trk-\\u0000nul/telemetry']);
  });

  it('refuses a signed payload holding a NUL as SCHEMA_INVALID, alone', async () => {
    const key = await device('trk-nulpayload');
    const p = new IngestPipeline(db.pools[0]!, opts);
    const bad: Inbound = {
      topic: 'chipwatch/v1/devices/trk-nulpayload/telemetry',
      payload: Buffer.from(
        signCompactJws(
          {
            ...buildTelemetry('trk-nulpayload', 2, [{ ts: Date.now() - 1000, lat: 1, lon: 2 }]),
            note: 'a\u0000b',
          },
          key,
        ),
      ),
      receivedAt: Date.now(),
    };
    const out = await ingest(p, [message('trk-nulpayload', key, 1), bad, message('trk-nulpayload', key, 3)]);
    expect(out.verdicts.map((v) => (v.kind === 'rejected' ? v.reason : v.kind))).toEqual([
      'accepted',
      'SCHEMA_INVALID',
      'accepted',
    ]);
    // Signed and refused for good: acknowledged, so the tracker stops resending it.
    expect(out.acks.get('trk-nulpayload')).toEqual({ seq: 3, sack: [] });
  });

  it('stores the rest of a batch one by one when the database refuses one message, which is refused alone', async () => {
    const key = await device('trk-dbrefuses');
    // What the database refuses, made to order: a trigger standing for any constraint the checks do not know.
    await db.pools[0]!.query(`CREATE FUNCTION refuse_lat_66() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.device_id = 'trk-dbrefuses' AND NEW.lat = 66.6 THEN RAISE EXCEPTION 'refused by the database'; END IF;
      RETURN NEW; END $$`);
    await db.pools[0]!.query(
      'CREATE TRIGGER refuse_lat_66 BEFORE INSERT ON telemetry FOR EACH ROW EXECUTE FUNCTION refuse_lat_66()',
    );
    try {
      const p = new IngestPipeline(db.pools[0]!, opts);
      const processor = new BatchProcessor(p, createMetrics(), createLogger('silent'), {
        stopping: () => false,
        onDatabase: () => {},
      });
      const batch = [
        message('trk-dbrefuses', key, 1),
        message('trk-dbrefuses', key, 2, 66.6),
        message('trk-dbrefuses', key, 3),
      ];
      const out = await processor.process(batch);
      expect(out?.verdicts.map((v) => (v.kind === 'rejected' ? v.reason : v.kind))).toEqual([
        'accepted',
        'INTERNAL_ERROR',
        'accepted',
      ]);
      // 2 is not stored, so the ack claims 1 and sacks 3: the tracker keeps 2 and resends it.
      expect(out?.acks.get('trk-dbrefuses')).toEqual({ seq: 1, sack: [3] });
      const rows = await db.pools[0]!.query(
        "SELECT seq FROM telemetry WHERE device_id = 'trk-dbrefuses' ORDER BY seq",
      );
      expect(rows.rows.map((r) => Number(r.seq))).toEqual([1, 3]);
      const refused = await db.pools[0]!.query(
        "SELECT reason, detail FROM rejections WHERE device_id = 'trk-dbrefuses' AND reason = 'INTERNAL_ERROR'",
      );
      expect(refused.rows[0]?.detail).toContain('refused by the database');
    } finally {
      await db.pools[0]!.query('DROP TRIGGER refuse_lat_66 ON telemetry');
    }
  });
});

describe('revocation by arrival time', () => {
  it('accepts a tracker message that arrived before its key was revoked and refuses one that arrived after', async () => {
    const key = await device('trk-rev-time');
    const p = new IngestPipeline(db.pools[0]!, opts);
    // Both are committed after the revocation; what counts is when chipwatch took each from the broker.
    const before = { ...message('trk-rev-time', key, 1), receivedAt: Date.now() - 60_000 };
    expect(await revokeSender(db.pools[0]!, 'device', 'trk-rev-time', 'test', 'lost')).toBe(true);
    const after = { ...message('trk-rev-time', key, 2), receivedAt: Date.now() + 1000 };
    const out = await ingest(p, [before, after]);
    expect(out.verdicts.map((v) => (v.kind === 'rejected' ? v.reason : v.kind))).toEqual([
      'accepted',
      'KEY_REVOKED',
    ]);
    // An unauthenticated refusal (the key is no longer valid): not acknowledged, so seq 2 stays with the tracker.
    expect(out.acks.get('trk-rev-time')).toEqual({ seq: 1, sack: [] });
  });

  it('does the same for a site: an attestation arriving after the site was revoked is KEY_REVOKED', async () => {
    const key = generateDeviceKey();
    const jwk = normalizePublicJwk(key.publicJwk);
    const site = {
      name: 'DC',
      endUser: null,
      lat: 52.3,
      lon: 4.94,
      radiusKm: 5,
      country: null,
      params: {},
      jwk,
    };
    expect(await insertSite(db.pools[0]!, { id: 'dc-rev-time', ...site }, 'test')).toBe(true);
    const attestation = (seq: number, receivedAt: number): Inbound => ({
      topic: 'chipwatch/v1/sites/dc-rev-time/attestations',
      payload: Buffer.from(
        signCompactJws(
          {
            v: 1,
            siteId: 'dc-rev-time',
            seq,
            sentAt: Date.now() - 1000,
            location: { lat: 52.3, lon: 4.94 },
            chips: [],
            landmarks: [],
          },
          key,
          'chipwatch-attestation+jws',
        ),
      ),
      receivedAt,
    });
    const p = new IngestPipeline(db.pools[0]!, opts);
    const before = attestation(1, Date.now() - 60_000);
    expect(await revokeSender(db.pools[0]!, 'site', 'dc-rev-time', 'test', 'decommissioned')).toBe(true);
    const out = await ingest(p, [before, attestation(2, Date.now() + 1000)]);
    expect(out.verdicts.map((v) => (v.kind === 'rejected' ? v.reason : v.kind))).toEqual([
      'accepted',
      'KEY_REVOKED',
    ]);
    expect(out.siteAcks.get('dc-rev-time')).toEqual({ seq: 1, sack: [] });
  });
});
