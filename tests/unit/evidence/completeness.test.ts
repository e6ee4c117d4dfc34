// Completeness per sender: seq range, every missing seq as ranges, duplicate seqs, gaps in time.
import { describe, expect, it } from 'vitest';
import {
  completeness,
  completenessOf,
  gapThresholdS,
  type Observation,
} from '../../../src/evidence/completeness.ts';
import { HOUR, T0, telemetry } from './fixtures.ts';

const dev = (seq: number, ...timesMs: number[]): Observation => ({
  sender: 'device',
  id: 'trk-1',
  seq,
  timesMs,
});
const site = (id: string, seq: number, t: number): Observation => ({ sender: 'site', id, seq, timesMs: [t] });

describe('completeness', () => {
  it('a contiguous run of seqs has nothing missing and no gap', () => {
    const c = completeness(
      [0, 1, 2, 3].map((s) => telemetry(s)),
      3600,
    );
    expect(c.senders).toEqual([
      {
        sender: 'device',
        id: 'trk-1',
        messages: 4,
        seq: { first: 0, last: 3 },
        missing: [],
        missingCount: 0,
        duplicateSeqs: [],
        time: { first: new Date(T0).toISOString(), last: new Date(T0 + 3 * HOUR).toISOString() },
        gapThresholdS: 3 * 3600,
        gaps: [],
      },
    ]);
  });

  it('lists every seq missing inside the range as inclusive ranges, and counts them', () => {
    const c = completenessOf([dev(10, T0), dev(11, T0), dev(13, T0), dev(17, T0), dev(18, T0)], 300);
    expect(c.senders[0]).toMatchObject({
      seq: { first: 10, last: 18 },
      missing: [
        { from: 12, to: 12 },
        { from: 14, to: 16 },
      ],
      missingCount: 4,
    });
  });

  it('a seq jump to 2^53−1 is one range, not 9 quadrillion entries', () => {
    const c = completenessOf([dev(0, T0), dev(Number.MAX_SAFE_INTEGER, T0)], 300);
    expect(c.senders[0]!.missing).toEqual([{ from: 1, to: Number.MAX_SAFE_INTEGER - 1 }]);
    expect(c.senders[0]!.missingCount).toBe(Number.MAX_SAFE_INTEGER - 1);
  });

  it('reports a seq carried by two messages, in any order of arrival', () => {
    const c = completenessOf([dev(2, T0), dev(1, T0), dev(2, T0), dev(2, T0), dev(3, T0)], 300);
    expect(c.senders[0]).toMatchObject({ duplicateSeqs: [2], missing: [], messages: 5 });
  });

  it('a gap is two consecutive observations more than max(3 report intervals, 1 h) apart', () => {
    expect(gapThresholdS('device', 300)).toBe(3600);
    expect(gapThresholdS('device', 7200)).toBe(21_600);
    expect(gapThresholdS('site', 300)).toBe(10_800);
    // Fixes carried by one message count one by one: a buffered message fills the time it covers.
    const c = completenessOf(
      [dev(0, T0, T0 + 0.5 * HOUR), dev(1, T0 + 1.5 * HOUR), dev(2, T0 + 2.5 * HOUR + 1000)],
      300,
    );
    expect(c.senders[0]!.gaps).toEqual([
      {
        from: new Date(T0 + 1.5 * HOUR).toISOString(),
        to: new Date(T0 + 2.5 * HOUR + 1000).toISOString(),
        seconds: 3601,
      },
    ]);
    // Exactly the threshold is no gap.
    expect(completenessOf([dev(0, T0), dev(1, T0 + HOUR)], 300).senders[0]!.gaps).toEqual([]);
  });

  it('one entry per sender, devices before sites, each sorted by id', () => {
    const c = completenessOf(
      [site('dc-b', 5, T0), dev(0, T0), site('dc-a', 1, T0), site('dc-b', 7, T0 + 4 * HOUR)],
      300,
    );
    expect(c.senders.map((s) => `${s.sender} ${s.id}`)).toEqual(['device trk-1', 'site dc-a', 'site dc-b']);
    expect(c.senders[2]).toMatchObject({
      missing: [{ from: 6, to: 6 }],
      gapThresholdS: 10_800,
      gaps: [{ seconds: 4 * 3600 }],
    });
  });

  it('reads sender, seq and times from the signed payloads; an unreadable payload is skipped', () => {
    const broken = { ...telemetry(5), jws: 'e30.bm90IGpzb24.c2ln' };
    const c = completeness([telemetry(0), broken, telemetry(2)], 3600);
    expect(c.senders[0]).toMatchObject({ messages: 2, missing: [{ from: 1, to: 1 }] });
  });
});
