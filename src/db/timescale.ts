// TimescaleDB's part at run time: the retention policy (a setting, so applied at start, not in a migration) and the
// health of its background jobs (compression, continuous aggregate refresh, retention). On plain PostgreSQL both are
// no-ops.
import { hasTimescale } from './health.ts';
import type { Pool } from './pool.ts';

/** The time-series tables retention drops whole chunks of: telemetry, evidence, attestations and the aggregate. */
export const RETAINED = [
  'telemetry',
  'messages',
  'attestations',
  'attestation_messages',
  'telemetry_hourly',
] as const;

/**
 * Sets TimescaleDB's retention policy on every retained table to `days` (0: none, keep everything). Chunks whose
 * newest row is older than that are dropped by a daily background job. Returns the tables it set, [] without
 * TimescaleDB. Idempotent: the previous policy is replaced.
 */
export async function applyRetention(db: Pool, days: number): Promise<string[]> {
  if (!(await hasTimescale(db))) return [];
  const set: string[] = [];
  for (const table of RETAINED) {
    const exists = await db.query('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
    if (!exists.rows[0]?.ok) continue;
    await db.query('SELECT remove_retention_policy($1::regclass, if_exists => true)', [table]);
    if (days > 0) {
      await db.query(`SELECT add_retention_policy($1::regclass, make_interval(days => $2::int))`, [
        table,
        days,
      ]);
      set.push(table);
    }
  }
  return set;
}

/** One background job whose last run failed. */
export interface FailedJob {
  jobId: number;
  proc: string;
  table: string | null;
  lastRunAt: string | null;
  totalFailures: number;
}

/**
 * TimescaleDB's jobs whose last run failed (`timescaledb_information.job_stats.last_run_status`), or null without
 * TimescaleDB. A failing compression job leaves chunks uncompressed; a failing retention job keeps old data.
 */
export async function failedTimescaleJobs(db: Pool): Promise<FailedJob[] | null> {
  if (!(await hasTimescale(db))) return null;
  const res = await db.query(
    `SELECT j.job_id, j.proc_name, coalesce(j.hypertable_name, s.hypertable_name) AS table_name, s.last_run_started_at,
            s.total_failures
       FROM timescaledb_information.job_stats s JOIN timescaledb_information.jobs j USING (job_id)
      WHERE s.last_run_status = 'Failed' ORDER BY j.job_id`,
  );
  return res.rows.map((r) => ({
    jobId: Number(r.job_id),
    proc: r.proc_name as string,
    table: (r.table_name as string | null) ?? null,
    lastRunAt: r.last_run_started_at ? (r.last_run_started_at as Date).toISOString() : null,
    totalFailures: Number(r.total_failures),
  }));
}
