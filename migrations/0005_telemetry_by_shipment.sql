-- Up Migration
-- A shipment's positions, track and evidence read telemetry by shipment: without this index each is a full scan.
CREATE INDEX IF NOT EXISTS telemetry_shipment_ts ON telemetry (shipment_id, ts, seq, idx) WHERE shipment_id IS NOT NULL;
