import { describe, expect, it } from 'vitest';
import { acksFor, type Verdict } from '../../../src/ingest/stages/verdicts.ts';
import { acceptSeq, EMPTY_WINDOW } from '../../../src/verify/replay-window.ts';

describe('device acknowledgements', () => {
  it("acknowledges a device's highest committed seq, duplicates included", () => {
    const windows = new Map([['a', acceptSeq(acceptSeq(EMPTY_WINDOW, 7), 8)]]);
    const verdicts: Verdict[] = [
      { kind: 'accepted', deviceId: 'a', seq: 8, records: 1 },
      { kind: 'duplicate', deviceId: 'a', seq: 7 },
    ];
    expect(acksFor(verdicts, windows)).toEqual(new Map([['a', 8]]));
  });

  it('acknowledges an authenticated refusal (a replay) with the highest committed seq', () => {
    const windows = new Map([['a', acceptSeq(EMPTY_WINDOW, 9)]]);
    const verdicts: Verdict[] = [
      { kind: 'rejected', reason: 'REPLAY', detail: '', deviceId: 'a', seq: 4, authenticated: true },
    ];
    expect(acksFor(verdicts, windows)).toEqual(new Map([['a', 9]]));
  });

  it('does not acknowledge a refused seq above the highest: that would claim the seqs below it were done', () => {
    const windows = new Map([['a', acceptSeq(EMPTY_WINDOW, 16)]]);
    const verdicts: Verdict[] = [
      {
        kind: 'rejected',
        reason: 'SCHEMA_INVALID',
        detail: '',
        deviceId: 'a',
        seq: 100,
        authenticated: true,
      },
    ];
    expect(acksFor(verdicts, windows)).toEqual(new Map([['a', 16]]));
    expect(acksFor(verdicts, new Map([['a', EMPTY_WINDOW]]))).toEqual(new Map());
  });

  it('never acknowledges an unauthenticated message: a forger must not make the tracker drop its buffer', () => {
    const verdicts: Verdict[] = [
      {
        kind: 'rejected',
        reason: 'SIGNATURE_INVALID',
        detail: '',
        deviceId: 'a',
        seq: 1_000_000,
        authenticated: false,
      },
      { kind: 'rejected', reason: 'UNKNOWN_KEY', detail: '', deviceId: 'b', seq: 5, authenticated: false },
    ];
    expect(acksFor(verdicts, new Map())).toEqual(new Map());
  });
});
