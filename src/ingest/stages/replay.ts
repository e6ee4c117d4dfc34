// The replay window (RFC 4303 §3.4.3 style, per sender): each (sender, seq) is accepted once, ever. The same payload
// again is a duplicate (acked, not stored twice); another payload under a used seq is a REPLAY; a seq below the
// window that was never accepted is STALE_SEQ. Windows are locked in the batch's transaction, so several workers
// may take any sender.

import type { SenderState } from '../../db/replay-state.ts';
import { Rejection } from '../../domain/errors.ts';
import type { SenderKind } from '../../domain/messages.ts';
import type { ReplayWindow } from '../../verify/replay-window.ts';
import { refuse, type Screened, type Verified } from '../../verify/screen.ts';
import { decideSeqs, type SeqCandidate, type SeqDecision } from '../decide.ts';
import type { Decided } from './verdicts.ts';

export interface ReplayInput {
  /** The senders whose windows are needed: those of verified messages and of authenticated refusals. */
  senders: string[];
  candidates: SeqCandidate[];
  verified: Verified[];
}

/** Pure: the messages of one kind that the window decides, and the senders whose window (and ack) they touch. */
export function replayInput(screened: Screened[], sender: SenderKind): ReplayInput {
  const input: ReplayInput = { verified: [], senders: [], candidates: [] };
  const authenticatedRefused: string[] = [];
  for (const s of screened) {
    if (s.sender !== sender) continue;
    if (s.kind === 'verified') {
      input.verified.push(s);
      input.senders.push(s.senderId);
      input.candidates.push({ deviceId: s.senderId, seq: s.payload.seq, payloadSha256: s.payloadSha256 });
    } else if (s.authenticated && s.senderId !== null) authenticatedRefused.push(s.senderId);
  }
  input.senders.push(...authenticatedRefused);
  return input;
}

/** Pure: a window decision as the message's outcome. */
export function decided(v: Verified, decision: SeqDecision): Decided {
  if (decision === 'accept') return { kind: 'accepted', v };
  if (decision === 'duplicate') return { kind: 'duplicate', v };
  const seq = v.payload.seq;
  const detail = {
    REPLAY: `seq ${seq} was already accepted with a different payload`,
    STALE_SEQ: `seq ${seq} is below the replay window (or the sender's first seq) and was never accepted with this payload`,
    SEQ_JUMP: `seq ${seq} is too far above the sender's highest seq: an admin may reset its replay window`,
  }[decision];
  return {
    kind: 'refused',
    r: refuse(v, new Rejection(decision, detail), {
      senderId: v.senderId,
      kid: v.kid,
      seq,
      authenticated: true,
    }),
  };
}

/** Pure: the windows and floors of one kind's locked senders, as `decideSeqs` takes them. */
export function splitStates(states: ReadonlyMap<string, SenderState>) {
  return {
    windows: new Map([...states].map(([id, s]) => [id, s.window] as const)),
    floors: new Map([...states].map(([id, s]) => [id, s.floor] as const)),
  };
}

/** Pure: every message of the batch decided, in batch order, given each kind's windows and stored hashes. */
export function decideBatch(
  screened: Screened[],
  inputs: Record<SenderKind, ReplayInput>,
  split: Record<SenderKind, ReturnType<typeof splitStates>>,
  hashes: Record<SenderKind, ReadonlyMap<string, Buffer>>,
  maxJump: number,
): { decided: Decided[]; windows: Record<SenderKind, Map<string, ReplayWindow>> } {
  const outcome = new Map<Screened, Decided>();
  const after = {} as Record<SenderKind, Map<string, ReplayWindow>>;
  for (const sender of ['device', 'site'] as const) {
    const input = inputs[sender];
    const { windows, floors } = split[sender];
    const d = decideSeqs(windows, input.candidates, hashes[sender], { floors, maxJump });
    input.verified.forEach((v, i) => {
      outcome.set(v, decided(v, d.decisions[i]!));
    });
    after[sender] = d.windows;
  }
  return {
    decided: screened.map((s) => (s.kind === 'refused' ? { kind: 'refused', r: s } : outcome.get(s)!)),
    windows: after,
  };
}
