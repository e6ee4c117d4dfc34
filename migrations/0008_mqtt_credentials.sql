-- Up Migration
-- MQTT credentials of trackers and sites (wire protocol v1, "Connecting"): the password is shown once, at
-- registration or rotation; only its scrypt hash is kept. `generation` rises at each rotation so a broker can close
-- connections made with an older password; `updated_at` lets brokers in other processes pick changes up.
CREATE TABLE IF NOT EXISTS mqtt_credentials (
  kind          text NOT NULL CHECK (kind IN ('device', 'site')),
  id            text NOT NULL,
  password_hash text NOT NULL,
  generation    integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_by    text,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS mqtt_credentials_updated ON mqtt_credentials (updated_at);
CREATE INDEX IF NOT EXISTS mqtt_credentials_id ON mqtt_credentials (id);

-- A site is revoked like a device: who and why are kept.
ALTER TABLE sites ADD COLUMN IF NOT EXISTS revoked_by text;
ALTER TABLE sites ADD COLUMN IF NOT EXISTS revoke_reason text;
CREATE INDEX IF NOT EXISTS devices_revoked_at ON devices (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS sites_revoked_at ON sites (revoked_at) WHERE revoked_at IS NOT NULL;
