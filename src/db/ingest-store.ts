// SQL of one ingest batch: one statement per step, many rows per statement (unnest arrays), one transaction.
import type { SenderKind } from '../domain/messages.ts';
import { numberArrayLiteral } from './array-literal.ts';
import type { Pool, PoolClient } from './pool.ts';
import { SENDER_TABLES } from './senders.ts';

/** Resends are looked for among the messages received this recently first (TimescaleDB: the uncompressed chunks). */
const RECENT_DAYS = 8;

/**
 * Payload hashes of already stored messages of trackers (or sites), keyed `id\0seq`: what tells a duplicate from
 * a replay. `deviceId` is the sender's id (a site's for sites). Nearly every resend follows its first copy within
 * hours, so the received-recently chunks are probed first; only pairs not found there are looked for over the whole
 * history (on TimescaleDB that probes every chunk, compressed ones included).
 */
export async function storedHashes(
  c: PoolClient,
  pairs: { deviceId: string; seq: number }[],
  sender: SenderKind = 'device',
): Promise<Map<string, Buffer>> {
  if (pairs.length === 0) return new Map();
  const t = SENDER_TABLES[sender];
  const lookUp = async (ps: typeof pairs, recentOnly: boolean) =>
    (
      await c.query(
        `SELECT m.${t.id} AS id, m.seq, m.payload_sha256 FROM ${t.evidence} m
           JOIN unnest($1::text[], $2::bigint[]) AS p(id, seq) ON m.${t.id} = p.id AND m.seq = p.seq
          ${recentOnly ? `WHERE m.received_at > now() - make_interval(days => ${RECENT_DAYS})` : ''}`,
        [ps.map((p) => p.deviceId), ps.map((p) => p.seq)],
      )
    ).rows;
  const found = new Map<string, Buffer>();
  const keep = (rows: { id: string; seq: string; payload_sha256: Buffer }[]) => {
    for (const r of rows) found.set(`${r.id}\0${r.seq}`, r.payload_sha256);
  };
  keep(await lookUp(pairs, true));
  const older = pairs.filter((p) => !found.has(`${p.deviceId}\0${p.seq}`));
  if (older.length > 0) keep(await lookUp(older, false));
  return found;
}

export interface MessageRow {
  deviceId: string;
  seq: number;
  payloadSha256: Buffer;
  kid: string;
  topic: string;
  jws: string;
  recordCount: number;
  receivedAt: number;
}

export async function insertMessages(c: PoolClient, rows: MessageRow[]): Promise<void> {
  if (rows.length === 0) return;
  await c.query(
    `INSERT INTO messages (device_id, seq, payload_sha256, kid, topic, jws, record_count, received_at)
     SELECT d, s, h, k, t, j, n, to_timestamp(r / 1000.0)
       FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::text[], $5::text[], $6::text[], $7::int[], $8::float8[])
         AS x(d, s, h, k, t, j, n, r)`,
    [
      rows.map((r) => r.deviceId),
      numberArrayLiteral(rows.map((r) => r.seq)),
      rows.map((r) => r.payloadSha256),
      rows.map((r) => r.kid),
      rows.map((r) => r.topic),
      rows.map((r) => r.jws),
      numberArrayLiteral(rows.map((r) => r.recordCount)),
      numberArrayLiteral(rows.map((r) => r.receivedAt)),
    ],
  );
}

export interface TelemetryRow {
  deviceId: string;
  ts: number;
  seq: number;
  idx: number;
  lat: number;
  lon: number;
  altM: number | null;
  speedKmh: number | null;
  headingDeg: number | null;
  hdop: number | null;
  satellites: number | null;
  batteryPct: number | null;
  temperatureC: number | null;
  lightLux: number | null;
  tamper: boolean | null;
  receivedAt: number;
  shipmentId: string | null;
  flags: string[];
}

/** Per shipment: the span of the fixes a batch adds, which every read of its telemetry is bounded by. */
interface FixSpan {
  from: number;
  to: number;
  receivedTo: number;
  count: number;
}

function spansOf(rows: TelemetryRow[]): Map<string, FixSpan> {
  const spans = new Map<string, FixSpan>();
  for (const r of rows) {
    if (r.shipmentId === null) continue;
    const s = spans.get(r.shipmentId);
    if (!s) spans.set(r.shipmentId, { from: r.ts, to: r.ts, receivedTo: r.receivedAt, count: 1 });
    else {
      s.from = Math.min(s.from, r.ts);
      s.to = Math.max(s.to, r.ts);
      s.receivedTo = Math.max(s.receivedTo, r.receivedAt);
      s.count++;
    }
  }
  return spans;
}

export async function insertTelemetry(c: PoolClient, rows: TelemetryRow[]): Promise<void> {
  if (rows.length === 0) return;
  const spans = [...spansOf(rows)];
  // The same statement widens each shipment's span (summed here, not read back from the inserted rows).
  await c.query(
    `WITH ins AS (
     INSERT INTO telemetry (device_id, ts, seq, idx, lat, lon, alt_m, speed_kmh, heading_deg, hdop, satellites,
                            battery_pct, temperature_c, light_lux, tamper, received_at, shipment_id, flags)
     SELECT d, to_timestamp(ts / 1000.0), s, i, la, lo, a, sp, h, hd, sa, b, te, li, ta, to_timestamp(r / 1000.0), sh,
            CASE WHEN fl = '' THEN '{}'::text[] ELSE string_to_array(fl, ',') END
       FROM unnest($1::text[], $2::float8[], $3::bigint[], $4::int[], $5::float8[], $6::float8[], $7::real[],
                   $8::real[], $9::real[], $10::real[], $11::int[], $12::real[], $13::real[], $14::real[],
                   $15::boolean[], $16::float8[], $17::text[], $18::text[])
         AS x(d, ts, s, i, la, lo, a, sp, h, hd, sa, b, te, li, ta, r, sh, fl))
     UPDATE shipments s
        SET fixes_from = least(s.fixes_from, to_timestamp(n.f / 1000.0)),
            fixes_to = greatest(s.fixes_to, to_timestamp(n.t / 1000.0)),
            fixes_received_to = greatest(s.fixes_received_to, to_timestamp(n.r / 1000.0)),
            fix_count = s.fix_count + n.c
       FROM unnest($19::text[], $20::float8[], $21::float8[], $22::float8[], $23::int[]) AS n(id, f, t, r, c)
      WHERE s.id = n.id`,
    [
      ...telemetryColumns(rows),
      spans.map(([id]) => id),
      spans.map(([, s]) => s.from),
      spans.map(([, s]) => s.to),
      spans.map(([, s]) => s.receivedTo),
      spans.map(([, s]) => s.count),
    ],
  );
}

/**
 * The 18 parameters of the telemetry insert in one pass over the rows (a batch of 10-fix messages holds ~10,000),
 * the numeric ones as array literals.
 */
function telemetryColumns(rows: TelemetryRow[]): unknown[] {
  const n = rows.length;
  const col = () => new Array<number | null>(n);
  const [ts, seq, idx, lat, lon, alt, speed] = [col(), col(), col(), col(), col(), col(), col()];
  const [heading, hdop, sats, battery, temp, lux, recv] = [col(), col(), col(), col(), col(), col(), col()];
  const device = new Array<string>(n);
  const tamper = new Array<boolean | null>(n);
  const shipment = new Array<string | null>(n);
  const flags = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    device[i] = r.deviceId;
    ts[i] = r.ts;
    seq[i] = r.seq;
    idx[i] = r.idx;
    lat[i] = r.lat;
    lon[i] = r.lon;
    alt[i] = r.altM;
    speed[i] = r.speedKmh;
    heading[i] = r.headingDeg;
    hdop[i] = r.hdop;
    sats[i] = r.satellites;
    battery[i] = r.batteryPct;
    temp[i] = r.temperatureC;
    lux[i] = r.lightLux;
    tamper[i] = r.tamper;
    recv[i] = r.receivedAt;
    shipment[i] = r.shipmentId;
    flags[i] = r.flags.length === 0 ? '' : r.flags.join(',');
  }
  const lit = numberArrayLiteral;
  return [
    device,
    lit(ts),
    lit(seq),
    lit(idx),
    lit(lat),
    lit(lon),
    lit(alt),
    lit(speed),
    lit(heading),
    lit(hdop),
    lit(sats),
    lit(battery),
    lit(temp),
    lit(lux),
    tamper,
    lit(recv),
    shipment,
    flags,
  ];
}

export interface RejectionRow {
  receivedAt: number;
  topic: string;
  deviceId: string | null;
  siteId: string | null;
  kid: string | null;
  seq: number | null;
  reason: string;
  detail: string;
  authenticated: boolean;
  raw: Buffer;
  rawSize: number;
}

export async function insertRejections(c: PoolClient, rows: RejectionRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof RejectionRow>(k: K) => rows.map((r) => r[k]);
  await c.query(
    `INSERT INTO rejections (received_at, topic, device_id, site_id, kid, seq, reason, detail, authenticated, raw, raw_size)
     SELECT to_timestamp(r / 1000.0), t, d, si, k, s, re, de, au, ra, rs
       FROM unnest($1::float8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[],
                   $9::boolean[], $10::bytea[], $11::int[])
         AS x(r, t, d, si, k, s, re, de, au, ra, rs)`,
    [
      col('receivedAt'),
      col('topic'),
      col('deviceId'),
      col('siteId'),
      col('kid'),
      col('seq'),
      col('reason'),
      col('detail'),
      col('authenticated'),
      col('raw'),
      col('rawSize'),
    ],
  );
}

/**
 * Deletes unauthenticated refusals older than `days`, in chunks (no long lock); returns how many went. Refusals of
 * authenticated senders are their signed messages, evidence: never deleted here.
 */
export async function pruneRejections(db: Pool, days: number, chunk = 10_000): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await db.query(
      `DELETE FROM rejections WHERE id IN (
         SELECT id FROM rejections WHERE NOT authenticated AND received_at < now() - make_interval(days => $1)
          LIMIT $2)`,
      [days, chunk],
    );
    total += res.rowCount ?? 0;
    if ((res.rowCount ?? 0) < chunk) return total;
  }
}
