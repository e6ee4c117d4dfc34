-- Up Migration
-- Acks never claim more than is safe: each sender's ack floor is the highest seq with no gap below it (every seq at
-- or below it committed or finally refused). A sender's seqs start at its registration's first_seq (default 1).
ALTER TABLE devices ADD COLUMN IF NOT EXISTS first_seq bigint NOT NULL DEFAULT 1;
ALTER TABLE sites ADD COLUMN IF NOT EXISTS first_seq bigint NOT NULL DEFAULT 1;
ALTER TABLE device_state ADD COLUMN IF NOT EXISTS ack_floor bigint;
ALTER TABLE site_state ADD COLUMN IF NOT EXISTS ack_floor bigint;
-- Senders seen before this migration were acknowledged up to their highest seq already: keep that claim.
UPDATE device_state SET ack_floor = highest_seq WHERE ack_floor IS NULL AND highest_seq >= 0;
UPDATE site_state SET ack_floor = highest_seq WHERE ack_floor IS NULL AND highest_seq >= 0;
UPDATE device_state s SET ack_floor = d.first_seq - 1 FROM devices d WHERE d.id = s.device_id AND s.ack_floor IS NULL;
UPDATE site_state s SET ack_floor = o.first_seq - 1 FROM sites o WHERE o.id = s.site_id AND s.ack_floor IS NULL;
-- When an alert last notified its channels: a flood of bad messages updates its alert every batch, but notifies
-- at most once a minute (src/alerts/rules.ts NOTIFY_UPDATES_EVERY_S).
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS notified_at timestamptz NOT NULL DEFAULT now();
