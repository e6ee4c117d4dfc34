// A sender's first seq and an administrator's reset of its replay window, through the real API and the real ingest
// pipeline on one database: acks count from the registration's firstSeq, a reset is audited, moves only forward
// past every stored seq, and lets a tracker whose counter jumped carry on.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../../device-sim/signer.ts';
import type { Inbound } from '../../src/domain/messages.ts';
import { IngestPipeline } from '../../src/ingest/pipeline.ts';
import { startAedes, type TestBroker } from '../helpers/broker.ts';
import { startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

let broker: TestBroker;
let cw: TestChipwatch;
let pipeline: IngestPipeline;

beforeAll(async () => {
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
  });
  pipeline = new IngestPipeline(cw.pool, {
    topicPrefix: 'chipwatch/v1',
    maxMessageBytes: 65536,
    rawCapBytes: 65536,
    maxClockSkewMs: 300_000,
    maxSeqJump: 1000,
  });
});
afterAll(async () => {
  await cw?.stop();
  await broker?.stop();
});

const key = generateDeviceKey();
const sent = new Map<number, Inbound>();
/** The message of `seq`, the same bytes every time (a resend). */
const message = (seq: number): Inbound => {
  const m = sent.get(seq) ?? build(seq);
  sent.set(seq, m);
  return m;
};
const build = (seq: number): Inbound => ({
  topic: 'chipwatch/v1/devices/trk-window/telemetry',
  payload: Buffer.from(
    signCompactJws(buildTelemetry('trk-window', seq, [{ ts: Date.now() - 1000, lat: 1, lon: 2 }]), key),
  ),
  receivedAt: Date.now(),
});
const ingest = async (seqs: number[]) => pipeline.commit(await pipeline.screen(seqs.map(message)));
const outcome = (v: { kind: string; reason?: string }) => (v.kind === 'rejected' ? v.reason : v.kind);

describe('first seq and replay-window reset', () => {
  it('counts acks from the registration’s firstSeq and refuses a seq below it', async () => {
    const res = await cw.api('POST', '/v1/devices', {
      body: { id: 'trk-window', publicKeyJwk: key.publicJwk, firstSeq: 100 },
    });
    expect(res.status).toBe(201);
    const out = await ingest([5, 100, 101]);
    expect(out.verdicts.map(outcome)).toEqual(['STALE_SEQ', 'accepted', 'accepted']);
    expect(out.acks.get('trk-window')).toEqual({ seq: 101, sack: [] });
  });

  it('lets an admin reset the window past a jumped counter, audited, and never below a stored seq', async () => {
    // The counter jumped within the bound: the window follows it and the tracker's real 102 is now far below.
    expect((await ingest([900])).verdicts.map(outcome)).toEqual(['accepted']);
    const reset = (firstSeq: number, role: 'admin' | 'compliance' = 'admin') =>
      cw.api('POST', '/v1/devices/trk-window/replay-window/reset', {
        role,
        body: { firstSeq, reason: 'firmware counter jumped after an update' },
      });
    expect((await reset(2000, 'compliance')).status).toBe(403);
    const tooLow = await reset(500);
    expect(tooLow.status).toBe(409);
    expect(tooLow.body.error.message).toContain('900');
    const done = await reset(2000);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ firstSeq: 2000, previousHighestSeq: 900, previousAckFloor: 101 });
    expect(
      (await cw.api('POST', '/v1/devices/nope/replay-window/reset', { body: { firstSeq: 5, reason: 'x' } }))
        .status,
    ).toBe(404);

    const after = await ingest([100, 1999, 2000, 2001]);
    // 100 is an exact resend of a stored message: still a duplicate; 1999 lies below the new first seq.
    expect(after.verdicts.map(outcome)).toEqual(['duplicate', 'STALE_SEQ', 'accepted', 'accepted']);
    expect(after.acks.get('trk-window')).toEqual({ seq: 2001, sack: [] });

    const audit = await cw.sql(
      "SELECT actor, action, reason, details FROM policy_audit WHERE subject = 'device:trk-window' ORDER BY id",
    );
    expect(audit).toEqual([
      {
        actor: 'test-admin',
        action: 'window_reset',
        reason: 'firmware counter jumped after an update',
        details: { firstSeq: 2000, previousHighestSeq: 900, previousAckFloor: 101 },
      },
    ]);
  });

  it('tells a resend of a message stored weeks ago from a replay (the lookup past the recent chunks)', async () => {
    // 101 was stored in the first test; its row is moved 40 days back (evidence triggers off for this one move; on
    // TimescaleDB the row changes chunk, which only a delete and insert can do).
    await cw.sql(
      `SET session_replication_role = replica;
       CREATE TEMP TABLE aged AS SELECT * FROM messages WHERE device_id = 'trk-window' AND seq = 101;
       UPDATE aged SET received_at = now() - interval '40 days';
       DELETE FROM messages WHERE device_id = 'trk-window' AND seq = 101;
       INSERT INTO messages SELECT * FROM aged;
       DROP TABLE aged;
       RESET session_replication_role`,
    );
    const aged = await cw.sql(
      "SELECT count(*)::int AS n FROM messages WHERE device_id = 'trk-window' AND received_at < now() - interval '30 days'",
    );
    expect(aged).toEqual([{ n: 1 }]);
    const resend = await ingest([101]);
    expect(resend.verdicts.map(outcome)).toEqual(['duplicate']);
    // The same seq with other bytes (a new timestamp) is no resend: refused (below the reset window: stale).
    const forged = build(101);
    const replay = await pipeline.commit(await pipeline.screen([forged]));
    expect(replay.verdicts.map(outcome)).toEqual(['STALE_SEQ']);
  });
});
