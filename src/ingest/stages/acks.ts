// What chipwatch may acknowledge, pure (wire protocol v1, "Acks are signed"): per sender, `seq` = the highest seq
// with no gap below it — every seq at or below it committed or finally refused — and `sack`, the seqs above it that
// are too. With seqs arriving 10, 8, 9, 5 and 6, 7 lost, the ack says 5 plus sack [8, 9, 10] until 6 and 7 arrive:
// a tracker never deletes a message chipwatch has not stored. Unauthenticated refusals are never acknowledged
// (anyone may publish on a topic); an authenticated one is final (its signed payload will never be valid) and is.
import type { SenderKind } from '../../domain/messages.ts';
import { acceptSeq, classifySeq, type ReplayWindow, WINDOW_SIZE } from '../../verify/replay-window.ts';
import type { Decided } from './verdicts.ts';

export interface Ack {
  seq: number;
  sack: number[];
}

/** Most seqs one ack lists above its floor (the rest are acknowledged when resent). */
export const MAX_SACK = 256;

/** Per sender of one kind: the seqs of authenticated messages this batch refused for good. */
export function finallyRefused(decided: Decided[], sender: SenderKind): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const d of decided) {
    if (d.kind !== 'refused' || d.r.sender !== sender || !d.r.authenticated) continue;
    if (d.r.senderId === null || d.r.seq === null) continue;
    const set = out.get(d.r.senderId) ?? new Set<number>();
    set.add(d.r.seq);
    out.set(d.r.senderId, set);
  }
  return out;
}

const inWindow = (w: ReplayWindow, seq: number) => classifySeq(w, seq) === 'seen';

/**
 * The window with each finally refused seq marked used, as an accepted one is: kept across batches, so a later ack
 * still covers it and the floor can pass it. A seq at or below the floor, already in the window, or further above
 * it than `maxJump` (a SEQ_JUMP) is left alone.
 */
export function markRefused(
  w: ReplayWindow,
  floor: number,
  refused: ReadonlySet<number> | undefined,
  maxJump: number,
): ReplayWindow {
  let out = w;
  for (const s of [...(refused ?? [])].sort((a, b) => a - b)) {
    if (s <= floor || s - Math.max(out.highest, floor) > maxJump) continue;
    if (classifySeq(out, s) === 'new') out = acceptSeq(out, s);
  }
  return out;
}

/**
 * The floor moved over every seq above it that is now done: accepted (in the window) or refused for good. A seq that
 * fell below the window can never be accepted any more (it would be STALE_SEQ), so it is final too: the window
 * bounds how long a gap stays open (WINDOW_SIZE seqs), and an ack never lists more than that above its floor.
 */
export function advanceFloor(
  floor: number,
  w: ReplayWindow,
  refused: ReadonlySet<number> = new Set(),
): number {
  let f = Math.max(floor, w.highest - WINDOW_SIZE);
  while (inWindow(w, f + 1) || refused.has(f + 1)) f++;
  return f;
}

/** The ack for a sender whose floor is `floor` (already advanced): the seqs above it that are done, ascending. */
export function ackOf(floor: number, w: ReplayWindow, refused: ReadonlySet<number> = new Set()): Ack {
  const sack = new Set<number>();
  // Only the window can hold accepted seqs above the floor: scan it, never the whole range up to `highest`.
  for (let s = Math.max(floor + 1, w.highest - WINDOW_SIZE + 1); s <= w.highest; s++)
    if (inWindow(w, s)) sack.add(s);
  for (const s of refused) if (s > floor) sack.add(s);
  return { seq: floor, sack: [...sack].sort((a, b) => a - b).slice(0, MAX_SACK) };
}

/** Two acks of one sender from consecutive commits as one: the higher floor, and what either lists above it. */
export function mergeAcks(a: Ack | undefined, b: Ack): Ack {
  if (!a) return b;
  const seq = Math.max(a.seq, b.seq);
  const sack = [...new Set([...a.sack, ...b.sack])].filter((s) => s > seq).sort((x, y) => x - y);
  return { seq, sack: sack.slice(0, MAX_SACK) };
}
