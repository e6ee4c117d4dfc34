// Rendezvous hashing of senders over ingest workers: every worker computes the same owner, the senders spread over
// the workers, and a worker joining or leaving moves only the senders it takes or leaves.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { hash53, ownerOf } from '../../../src/ingest/owners.ts';

const topics = Array.from({ length: 4000 }, (_, i) => `chipwatch/v1/devices/trk-${i}/telemetry`);

describe('owner of a sender', () => {
  it('is the same whatever order the worker list is in, and none without workers', () => {
    for (const t of topics.slice(0, 200))
      expect(ownerOf(t, ['cw-a', 'cw-b', 'cw-c'])).toBe(ownerOf(t, ['cw-c', 'cw-a', 'cw-b']));
    expect(ownerOf(topics[0]!, [])).toBeUndefined();
    expect(ownerOf(topics[0]!, ['only'])).toBe('only');
  });

  it('spreads senders over the workers', () => {
    const counts = new Map<string, number>();
    for (const t of topics) {
      const o = ownerOf(t, ['ingest-1', 'ingest-2', 'ingest-3'])!;
      counts.set(o, (counts.get(o) ?? 0) + 1);
    }
    // 4,000 senders over 3 workers: each gets about a third (binomial sd ≈ 30; the bound is 6 sd).
    for (const w of ['ingest-1', 'ingest-2', 'ingest-3'])
      expect(Math.abs(counts.get(w)! - 4000 / 3)).toBeLessThan(180);
  });

  it('moves only the new worker’s share when one joins, and only the leaver’s when one leaves', () => {
    const before = topics.map((t) => ownerOf(t, ['ingest-1', 'ingest-2']));
    const after = topics.map((t) => ownerOf(t, ['ingest-1', 'ingest-2', 'ingest-3']));
    const moved = topics.filter((_, i) => before[i] !== after[i]);
    expect(moved.every((t) => ownerOf(t, ['ingest-1', 'ingest-2', 'ingest-3']) === 'ingest-3')).toBe(true);
    const left = topics.map((t) => ownerOf(t, ['ingest-1', 'ingest-3']));
    for (const [i, o] of after.entries()) if (o !== 'ingest-2') expect(left[i]).toBe(o);
  });

  it('keeps its pinned hash values: workers of different versions must agree on every owner', () => {
    expect(hash53('')).toBe(3338908027751811);
    expect(hash53('chipwatch-ingest\u0000chipwatch/v1/devices/trk-1/telemetry')).toBe(4697498213885974);
  });
});

describe('INGEST_ROUTING', () => {
  it('refuses by-sender together with a shared subscription group', () => {
    expect(() =>
      loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(40), INGEST_ROUTING: 'by-sender', MQTT_SHARED_GROUP: 'g' }),
    ).toThrow(/MQTT_SHARED_GROUP: unset it with INGEST_ROUTING=by-sender/);
    expect(loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(40), INGEST_ROUTING: 'by-sender' }).INGEST_ROUTING).toBe(
      'by-sender',
    );
  });
});
