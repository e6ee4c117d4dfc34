-- Up Migration
-- Storage as it grows: every shipment records the time span of its fixes, so its track, positions, custody and
-- evidence read only that span; and when TimescaleDB is in this database, the evidence tables are partitioned and
-- compressed like telemetry, attestations are compressed, and an hourly continuous aggregate per device serves
-- track overviews. Retention (5 years by default, RETENTION_DAYS) is applied at start by src/db/timescale.ts, since
-- it is a setting. On plain PostgreSQL only the span columns are added.

-- The span of a shipment's fixes: device time of its earliest and latest fix, when the last one was received, and
-- how many there are. Written by the statement that inserts telemetry (src/db/ingest-store.ts), so reads bound
-- every scan by it and custody counts fixes without reading them.
ALTER TABLE shipments
  ADD COLUMN fixes_from timestamptz,
  ADD COLUMN fixes_to timestamptz,
  ADD COLUMN fixes_received_to timestamptz,
  ADD COLUMN fix_count bigint NOT NULL DEFAULT 0;

UPDATE shipments s SET fixes_from = t.first_ts, fixes_to = t.last_ts, fixes_received_to = t.last_received,
                       fix_count = t.n
  FROM (SELECT shipment_id, min(ts) AS first_ts, max(ts) AS last_ts, max(received_at) AS last_received, count(*) AS n
          FROM telemetry WHERE shipment_id IS NOT NULL GROUP BY shipment_id) t
 WHERE s.id = t.shipment_id;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    -- A hypertable's unique indexes must hold its time column, so the evidence tables' keys become
    -- (sender, seq, received_at). (sender, seq) stays unique all the same: a message is stored only after the
    -- sender's replay window, updated in the same transaction under the sender's row lock, accepted its seq.
    ALTER TABLE messages DROP CONSTRAINT messages_pkey;
    ALTER TABLE messages ADD PRIMARY KEY (device_id, seq, received_at);
    PERFORM create_hypertable('messages', 'received_at', chunk_time_interval => INTERVAL '1 day', migrate_data => true);
    EXECUTE 'ALTER TABLE messages SET (timescaledb.compress, timescaledb.compress_segmentby = ''device_id'', '
         || 'timescaledb.compress_orderby = ''seq DESC, received_at DESC'')';
    PERFORM add_compression_policy('messages', INTERVAL '7 days');

    ALTER TABLE attestation_messages DROP CONSTRAINT attestation_messages_pkey;
    ALTER TABLE attestation_messages ADD PRIMARY KEY (site_id, seq, received_at);
    PERFORM create_hypertable('attestation_messages', 'received_at', chunk_time_interval => INTERVAL '7 days',
                              migrate_data => true);
    EXECUTE 'ALTER TABLE attestation_messages SET (timescaledb.compress, timescaledb.compress_segmentby = ''site_id'', '
         || 'timescaledb.compress_orderby = ''seq DESC, received_at DESC'')';
    PERFORM add_compression_policy('attestation_messages', INTERVAL '14 days');

    EXECUTE 'ALTER TABLE attestations SET (timescaledb.compress, timescaledb.compress_segmentby = ''site_id'', '
         || 'timescaledb.compress_orderby = ''ts DESC, seq DESC'')';
    PERFORM add_compression_policy('attestations', INTERVAL '14 days');

    -- Hourly per device (and shipment): fixes, first and last position, top speed, lowest battery. Real-time: the
    -- hours not yet materialised are computed from telemetry at query time. The policy re-materialises the last
    -- 14 days every 30 minutes, so fixes arriving up to 14 days late are counted.
    EXECUTE $v$
      CREATE MATERIALIZED VIEW telemetry_hourly
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
      SELECT device_id, shipment_id, time_bucket(INTERVAL '1 hour', ts) AS hour,
             count(*) AS fixes, min(ts) AS first_ts, max(ts) AS last_ts,
             first(lat, ts) AS first_lat, first(lon, ts) AS first_lon,
             last(lat, ts) AS last_lat, last(lon, ts) AS last_lon,
             max(speed_kmh) AS max_speed_kmh, min(battery_pct) AS min_battery_pct
        FROM telemetry
       GROUP BY device_id, shipment_id, time_bucket(INTERVAL '1 hour', ts)
      WITH NO DATA
    $v$;
    PERFORM add_continuous_aggregate_policy('telemetry_hourly', start_offset => INTERVAL '14 days',
                                            end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');
    -- One row per device-hour is 8,760 a tracker a year: compressed once past the refresh window, like telemetry.
    ALTER MATERIALIZED VIEW telemetry_hourly SET (timescaledb.compress = true);
    PERFORM add_compression_policy('telemetry_hourly', compress_after => INTERVAL '30 days');
  END IF;
END
$$;
