// Two ingest workers sharing one database (as with an MQTT shared subscription, or a redelivery to the other
// worker): the per-device row lock keeps "accepted once, ever" true when both commit the same messages at once.
import { describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../../device-sim/signer.ts';
import { insertDevice } from '../../src/db/devices.ts';
import { insertSite } from '../../src/db/sites.ts';
import type { Inbound } from '../../src/domain/messages.ts';
import { IngestPipeline } from '../../src/ingest/pipeline.ts';
import { normalizePublicJwk } from '../../src/verify/keys.ts';
import { pipelineTestOptions, useMigratedPools } from '../helpers/pipeline.ts';

const opts = pipelineTestOptions({ rawCapBytes: 1024 });
const db = useMigratedPools(2);

describe('two ingest workers, one database', () => {
  it('accepts each (device, seq) exactly once when both workers commit the same batch concurrently', async () => {
    const devices = ['trk-w1', 'trk-w2', 'trk-w3'];
    const keys = devices.map(() => generateDeviceKey());
    for (const [i, id] of devices.entries()) {
      expect(await insertDevice(db.pools[0]!, id, normalizePublicJwk(keys[i]!.publicJwk), 'test')).toBe(true);
    }
    const now = Date.now();
    const batch: Inbound[] = [];
    for (let seq = 1; seq <= 40; seq++) {
      for (const [i, id] of devices.entries()) {
        const jws = signCompactJws(
          buildTelemetry(id, seq, [{ ts: now - 60_000 + seq, lat: 10, lon: 20 }]),
          keys[i]!,
        );
        batch.push({
          topic: `chipwatch/v1/devices/${id}/telemetry`,
          payload: Buffer.from(jws),
          receivedAt: now,
        });
      }
    }
    const workers = db.pools.map((p) => new IngestPipeline(p, opts));
    // Both screen first, then commit at the same moment: the second waits on the first's row locks.
    const screened = await Promise.all(
      workers.map((w, i) => w.screen(i === 0 ? batch : [...batch].reverse())),
    );
    const outcomes = await Promise.all(workers.map((w, i) => w.commit(screened[i]!)));
    const verdicts = outcomes.flatMap((o) => o.verdicts.map((v) => v.kind));
    expect(verdicts.filter((k) => k === 'accepted')).toHaveLength(batch.length);
    expect(verdicts.filter((k) => k === 'duplicate')).toHaveLength(batch.length);
    const [row] = (
      await db.pools[0]!.query(
        'SELECT count(*)::int AS m, (SELECT count(*)::int FROM telemetry) AS t FROM messages',
      )
    ).rows;
    expect(row).toEqual({ m: batch.length, t: batch.length });
    const states = (
      await db.pools[0]!.query('SELECT device_id, highest_seq, messages FROM device_state ORDER BY device_id')
    ).rows;
    expect(states).toEqual(devices.map((d) => ({ device_id: d, highest_seq: 40, messages: 40 })));
  });

  it('two workers taking attestations of one serial from two continents at the same moment: one sees the other', async () => {
    const sites = [
      { id: 'dc-w-ams', lat: 52.3, lon: 4.94 },
      { id: 'dc-w-tyo', lat: 35.68, lon: 139.65 },
    ];
    const keys = sites.map(() => generateDeviceKey());
    for (const [i, site] of sites.entries()) {
      const ok = await insertSite(
        db.pools[0]!,
        {
          ...site,
          name: site.id,
          endUser: null,
          radiusKm: 5,
          country: null,
          params: {},
          jwk: normalizePublicJwk(keys[i]!.publicJwk),
        },
        'test',
      );
      expect(ok).toBe(true);
    }
    const at = Date.now() - 1000;
    const messages: Inbound[] = sites.map((site, i) => ({
      topic: `chipwatch/v1/sites/${site.id}/attestations`,
      payload: Buffer.from(
        signCompactJws(
          {
            v: 1,
            siteId: site.id,
            seq: 1,
            sentAt: at,
            location: { lat: site.lat, lon: site.lon },
            chips: ['GPU-TWIN'],
            landmarks: [],
          },
          keys[i]!,
          'chipwatch-attestation+jws',
        ),
      ),
      receivedAt: Date.now(),
    }));
    const workers = db.pools.map((p) => new IngestPipeline(p, opts));
    const screened = await Promise.all(workers.map((w, i) => w.screen([messages[i]!])));
    await Promise.all(workers.map((w, i) => w.commit(screened[i]!)));
    // Whichever committed second read the first one's sighting (the serial bucket lock) and raised the light-speed
    // alert on both sites.
    const alerts = (
      await db.pools[0]!.query(
        `SELECT site_id, details FROM alerts WHERE type = 'CHIP_AT_UNEXPECTED_SITE' AND details ? 'otherSiteId'
          ORDER BY site_id`,
      )
    ).rows;
    expect(alerts.map((a) => a.site_id)).toEqual(['dc-w-ams', 'dc-w-tyo']);
  });
});
