-- Up Migration
-- The ingest foundation: devices and their keys, the replay window per device, telemetry (one row per record),
-- the signed messages as received (evidence, kept 5 years: 15 CFR 762.6) and every refused message.

CREATE TABLE devices (
  id            text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_by    text,
  revoked_at    timestamptz,
  revoked_by    text,
  revoke_reason text
);

CREATE TABLE device_keys (
  kid        text PRIMARY KEY,
  device_id  text NOT NULL REFERENCES devices (id),
  alg        text NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
  public_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX device_keys_device ON device_keys (device_id);

-- One row per device, locked FOR UPDATE by the ingest batch that touches the device, so several ingest
-- workers may share one database.
CREATE TABLE device_state (
  device_id     text PRIMARY KEY REFERENCES devices (id),
  highest_seq   bigint NOT NULL DEFAULT -1,
  window_bitmap text NOT NULL DEFAULT '0',
  last_fix_ts   timestamptz,
  last_lat      double precision,
  last_lon      double precision,
  messages      bigint NOT NULL DEFAULT 0,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE messages (
  device_id      text NOT NULL REFERENCES devices (id),
  seq            bigint NOT NULL,
  payload_sha256 bytea NOT NULL,
  kid            text NOT NULL,
  topic          text NOT NULL,
  jws            text NOT NULL,
  record_count   integer NOT NULL,
  received_at    timestamptz NOT NULL,
  PRIMARY KEY (device_id, seq)
);

CREATE TABLE telemetry (
  device_id     text NOT NULL,
  ts            timestamptz NOT NULL,
  seq           bigint NOT NULL,
  idx           smallint NOT NULL,
  lat           double precision NOT NULL,
  lon           double precision NOT NULL,
  alt_m         real,
  speed_kmh     real,
  heading_deg   real,
  hdop          real,
  satellites    smallint,
  battery_pct   real,
  temperature_c real,
  light_lux     real,
  tamper        boolean,
  received_at   timestamptz NOT NULL,
  shipment_id   text,
  flags         text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX telemetry_device_ts ON telemetry (device_id, ts DESC, seq DESC, idx DESC);

CREATE TABLE rejections (
  id            bigserial PRIMARY KEY,
  received_at   timestamptz NOT NULL,
  topic         text NOT NULL,
  device_id     text,
  site_id       text,
  kid           text,
  seq           bigint,
  reason        text NOT NULL,
  detail        text NOT NULL,
  authenticated boolean NOT NULL,
  raw           bytea NOT NULL,
  raw_size      integer NOT NULL
);
CREATE INDEX rejections_time ON rejections (received_at DESC, id DESC);
CREATE INDEX rejections_device ON rejections (device_id, received_at DESC, id DESC);
CREATE INDEX rejections_reason ON rejections (reason, received_at DESC, id DESC);

-- TimescaleDB when the extension is in this database (src/db/migrate.ts creates it before this migration when the
-- server offers it; pg_extension is readable by any role, unlike shared_preload_libraries): telemetry becomes a
-- hypertable, compressed after 7 days.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    PERFORM create_hypertable('telemetry', 'ts', chunk_time_interval => INTERVAL '1 day', migrate_data => true);
    EXECUTE 'ALTER TABLE telemetry SET (timescaledb.compress, timescaledb.compress_segmentby = ''device_id'', '
         || 'timescaledb.compress_orderby = ''ts DESC, seq DESC, idx DESC'')';
    PERFORM add_compression_policy('telemetry', INTERVAL '7 days');
  END IF;
END
$$;
