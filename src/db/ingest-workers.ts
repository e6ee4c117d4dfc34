// The live ingest workers of INGEST_ROUTING=by-sender (migration 0014): each renews its lease and reads who else is
// alive in one statement, on the database's clock, so workers on hosts with skewed clocks agree on who is live.
import type { Pool } from './pool.ts';

/**
 * Renews `workerId`'s lease and returns the ids of every worker seen within `leaseS` seconds (itself included),
 * sorted. Rows silent for a day are dropped on the way.
 */
export async function renewWorkerLease(pool: Pool, workerId: string, leaseS: number): Promise<string[]> {
  const { rows } = await pool.query<{ worker_id: string }>(
    `WITH renewed AS (
       INSERT INTO ingest_workers (worker_id) VALUES ($1)
       ON CONFLICT (worker_id) DO UPDATE SET seen_at = now()
       RETURNING worker_id
     ), forgotten AS (
       DELETE FROM ingest_workers WHERE seen_at < now() - interval '1 day' AND worker_id <> $1
     )
     SELECT worker_id FROM renewed
     UNION
     SELECT worker_id FROM ingest_workers WHERE seen_at > now() - make_interval(secs => $2)
     ORDER BY 1`,
    [workerId, leaseS],
  );
  return rows.map((r) => r.worker_id);
}

/** Gives the lease up at a clean stop, so the others take this worker's senders over at once. */
export async function dropWorkerLease(pool: Pool, workerId: string): Promise<void> {
  await pool.query('DELETE FROM ingest_workers WHERE worker_id = $1', [workerId]);
}
