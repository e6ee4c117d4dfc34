// The replay window of every sender (device_state, site_state): locked in id order inside the batch's transaction,
// so two workers never decide the same seq, and saved with the batch.
import type { SenderKind } from '../domain/messages.ts';
import { type ReplayWindow, windowFromDb, windowToHex } from '../verify/replay-window.ts';
import type { PoolClient } from './pool.ts';
import { SENDER_TABLES } from './senders.ts';

const NEWER = 'u.ts IS NOT NULL AND (s.last_fix_ts IS NULL OR to_timestamp(u.ts / 1000.0) > s.last_fix_ts)';

/** A sender's replay window and its ack floor (the highest seq with no gap below it). */
export interface SenderState {
  window: ReplayWindow;
  floor: number;
}

/**
 * Locks the senders' state rows in id order (no deadlocks between workers), creating the rows of senders seen for
 * the first time. One round trip when all rows exist, which is every batch but the first.
 */
export async function lockWindows(
  c: PoolClient,
  sender: SenderKind,
  senderIds: string[],
): Promise<Map<string, SenderState>> {
  const t = SENDER_TABLES[sender];
  const ids = [...new Set(senderIds)].sort();
  const out = new Map<string, SenderState>();
  if (ids.length === 0) return out;
  const select = async (which: string[]) => {
    const res = await c.query(
      `SELECT ${t.id} AS id, highest_seq, window_bitmap, ack_floor FROM ${t.state}
        WHERE ${t.id} = ANY($1::text[]) ORDER BY ${t.id} FOR UPDATE`,
      [which],
    );
    for (const r of res.rows) {
      out.set(r.id, {
        window: windowFromDb(r.highest_seq, r.window_bitmap),
        floor: Number(r.ack_floor ?? -1),
      });
    }
  };
  await select(ids);
  const missing = ids.filter((id) => !out.has(id));
  if (missing.length > 0) {
    // A new sender's floor sits just below the first seq its registration allows.
    await c.query(
      `INSERT INTO ${t.state} (${t.id}, ack_floor)
       SELECT o.id, o.first_seq - 1 FROM ${t.owners} o WHERE o.id = ANY($1::text[]) ORDER BY 1
       ON CONFLICT (${t.id}) DO NOTHING`,
      [missing],
    );
    await select(missing);
  }
  return out;
}

export interface WindowUpdate {
  senderId: string;
  window: ReplayWindow;
  floor: number;
  /** Messages accepted in the batch. */
  messages: number;
  /** Trackers only: the newest fix of the batch (kept when newer than the stored one). */
  lastFix?: { ts: number; lat: number; lon: number } | null;
}

export async function saveWindows(c: PoolClient, sender: SenderKind, rows: WindowUpdate[]): Promise<void> {
  if (rows.length === 0) return;
  const common = [
    rows.map((r) => r.senderId),
    rows.map((r) => r.window.highest),
    rows.map((r) => windowToHex(r.window)),
    rows.map((r) => r.messages),
    rows.map((r) => r.floor),
  ];
  if (sender === 'site') {
    await c.query(
      `UPDATE site_state s SET highest_seq = u.h, window_bitmap = u.b, messages = s.messages + u.n, ack_floor = u.f,
              updated_at = now()
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::int[], $5::bigint[]) AS u(d, h, b, n, f)
        WHERE s.site_id = u.d`,
      common,
    );
    return;
  }
  await c.query(
    // A stored fix is replaced only by a newer one: late messages never move the last position back.
    `UPDATE device_state s SET highest_seq = u.h, window_bitmap = u.b,
            last_fix_ts = CASE WHEN ${NEWER} THEN to_timestamp(u.ts / 1000.0) ELSE s.last_fix_ts END,
            last_lat = CASE WHEN ${NEWER} THEN u.la ELSE s.last_lat END,
            last_lon = CASE WHEN ${NEWER} THEN u.lo ELSE s.last_lon END,
            messages = s.messages + u.n, ack_floor = u.f, updated_at = now()
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::int[], $5::bigint[], $6::float8[], $7::float8[],
                   $8::float8[])
         AS u(d, h, b, n, f, ts, la, lo)
      WHERE s.device_id = u.d`,
    [
      ...common,
      rows.map((r) => r.lastFix?.ts ?? null),
      rows.map((r) => r.lastFix?.lat ?? null),
      rows.map((r) => r.lastFix?.lon ?? null),
    ],
  );
}
