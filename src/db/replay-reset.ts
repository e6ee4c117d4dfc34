// An administrator's reset of a sender's replay window: its next seq is `firstSeq`, above every seq it ever had
// stored, so "(sender, seq) accepted once, ever" still holds. Audited in the caller's transaction.
import type { SenderKind } from '../domain/messages.ts';
import type { PoolClient } from './pool.ts';
import { SENDER_TABLES } from './senders.ts';

export type ResetOutcome =
  | { kind: 'reset'; previousHighest: number; previousFloor: number | null }
  | { kind: 'not_found' }
  | { kind: 'too_low'; highestStored: number };

export async function resetReplayWindow(
  c: PoolClient,
  sender: SenderKind,
  id: string,
  firstSeq: number,
): Promise<ResetOutcome> {
  const t = SENDER_TABLES[sender];
  const owner = await c.query(`SELECT id FROM ${t.owners} WHERE id = $1 FOR UPDATE`, [id]);
  if (owner.rowCount !== 1) return { kind: 'not_found' };
  // The state row is the one ingest locks: taking it here makes the reset and a batch of the same sender serial.
  await c.query(`INSERT INTO ${t.state} (${t.id}) VALUES ($1) ON CONFLICT (${t.id}) DO NOTHING`, [id]);
  const state = await c.query(`SELECT highest_seq, ack_floor FROM ${t.state} WHERE ${t.id} = $1 FOR UPDATE`, [
    id,
  ]);
  const stored = await c.query(`SELECT max(seq) AS s FROM ${t.evidence} WHERE ${t.id} = $1`, [id]);
  const highestStored = stored.rows[0]?.s === null ? -1 : Number(stored.rows[0].s);
  if (firstSeq <= highestStored) return { kind: 'too_low', highestStored };
  await c.query(`UPDATE ${t.owners} SET first_seq = $2 WHERE id = $1`, [id, firstSeq]);
  await c.query(
    `UPDATE ${t.state} SET highest_seq = -1, window_bitmap = '0', ack_floor = $2, updated_at = now() WHERE ${t.id} = $1`,
    [id, firstSeq - 1],
  );
  const row = state.rows[0] as { highest_seq: string; ack_floor: string | null };
  return {
    kind: 'reset',
    previousHighest: Number(row.highest_seq),
    previousFloor: row.ack_floor === null ? null : Number(row.ack_floor),
  };
}
