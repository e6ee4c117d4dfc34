import { describe, expect, it } from 'vitest';
import { Batcher } from '../../../src/ingest/batcher.ts';
import { until } from '../../helpers/chipwatch.ts';

function setup(o: { maxBatch: number; capacity: number; maxWaitMs?: number }) {
  const batches: number[][] = [];
  const events: string[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const b = new Batcher<number>({
    maxBatch: o.maxBatch,
    maxWaitMs: o.maxWaitMs ?? 5,
    capacity: o.capacity,
    concurrency: 1,
    handle: async (items) => {
      batches.push(items);
      if (hold) await new Promise<void>((r) => (release = r));
    },
    pause: () => events.push('pause'),
    resume: () => events.push('resume'),
  });
  const holdNext = () => {
    hold = true;
  };
  const releaseHeld = () => {
    hold = false;
    release?.();
  };
  return { b, batches, events, holdNext, release: releaseHeld };
}

describe('micro-batcher', () => {
  it('flushes a full batch at once and the rest after the wait', async () => {
    const { b, batches } = setup({ maxBatch: 3, capacity: 100 });
    for (let i = 0; i < 4; i++) b.push(i);
    // The full batch goes out as it fills, before any wait.
    expect(batches).toEqual([[0, 1, 2]]);
    await until('the last item flushed after the wait', async () => batches.length >= 2);
    expect(batches).toEqual([[0, 1, 2], [3]]);
  });

  it('pauses the source when full and resumes it once half drained', async () => {
    const t = setup({ maxBatch: 2, capacity: 4 });
    t.holdNext();
    for (let i = 0; i < 6; i++) t.b.push(i);
    expect(t.events).toEqual(['pause']);
    t.release();
    await t.b.drain();
    expect(t.events).toEqual(['pause', 'resume']);
    expect(t.batches.flat()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('drain() hands over everything queued, in order', async () => {
    const { b, batches } = setup({ maxBatch: 10, capacity: 100, maxWaitMs: 10_000 });
    for (let i = 0; i < 7; i++) b.push(i);
    await b.drain();
    expect(batches.flat()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
