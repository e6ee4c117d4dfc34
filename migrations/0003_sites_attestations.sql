-- Up Migration
-- Data centers, RTT landmarks, signed attestations (evidence and a time series), chips seen at sites, and the
-- hash chain over the alert audit trail.

CREATE TABLE sites (
  id          text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
  name        text NOT NULL,
  end_user    text,
  lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
  radius_km   double precision NOT NULL CHECK (radius_km > 0),
  country     text,
  params      jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text,
  revoked_at  timestamptz,
  -- Check state: the latest accepted attestation, for the stop-attesting timer and the API.
  last_attested_at  timestamptz,
  last_seq          bigint,
  last_location     jsonb,
  last_landmarks    jsonb,
  last_chips        text[]
);

CREATE TABLE site_keys (
  kid        text PRIMARY KEY,
  site_id    text NOT NULL REFERENCES sites (id),
  alg        text NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
  public_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX site_keys_site ON site_keys (site_id);

CREATE TABLE site_state (
  site_id       text PRIMARY KEY REFERENCES sites (id),
  highest_seq   bigint NOT NULL DEFAULT -1,
  window_bitmap text NOT NULL DEFAULT '0',
  messages      bigint NOT NULL DEFAULT 0,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE landmarks (
  id         text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
  name       text,
  lat        double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lon        double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
  -- Stored for landmark-signed RTT measurements (a later step); not used to verify anything yet.
  public_jwk jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text
);

-- The signed attestations as received (evidence), one row per accepted message.
CREATE TABLE attestation_messages (
  site_id        text NOT NULL REFERENCES sites (id),
  seq            bigint NOT NULL,
  payload_sha256 bytea NOT NULL,
  kid            text NOT NULL,
  topic          text NOT NULL,
  jws            text NOT NULL,
  received_at    timestamptz NOT NULL,
  PRIMARY KEY (site_id, seq)
);

-- The attestations as a time series (sentAt is the site's clock).
CREATE TABLE attestations (
  site_id     text NOT NULL,
  ts          timestamptz NOT NULL,
  seq         bigint NOT NULL,
  lat         double precision NOT NULL,
  lon         double precision NOT NULL,
  chips       text[] NOT NULL,
  landmarks   jsonb NOT NULL,
  received_at timestamptz NOT NULL,
  flags       text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX attestations_site_ts ON attestations (site_id, ts DESC, seq DESC);
CREATE INDEX attestations_chips ON attestations USING gin (chips);

-- Where each serial was last attested: custody at a glance, and the CHIP_MISSING timer.
CREATE TABLE site_chips (
  site_id    text NOT NULL REFERENCES sites (id),
  serial     text NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL,
  PRIMARY KEY (site_id, serial)
);
CREATE INDEX site_chips_serial ON site_chips (serial, last_seen DESC);

-- Chips a shipment delivered to a site: expected in its attestations from arrival on.
ALTER TABLE shipments ADD COLUMN installed_at timestamptz;
CREATE INDEX shipments_chips ON shipments USING gin (chips);

-- Hash chain over each alert's audit trail: hash = sha256(canonical row incl. prev_hash). Rows written before this
-- migration stay unchained (NULL) and are reported as such.
ALTER TABLE alert_audit ADD COLUMN prev_hash text, ADD COLUMN hash text;
ALTER TABLE alert_audit DROP CONSTRAINT alert_audit_action_check;
ALTER TABLE alert_audit ADD CONSTRAINT alert_audit_action_check
  CHECK (action IN ('opened', 'acknowledged', 'resolved', 'auto_resolved', 'escalated', 'updated'));

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    PERFORM create_hypertable('attestations', 'ts', chunk_time_interval => INTERVAL '7 days', migrate_data => true);
  END IF;
END
$$;
