-- Up Migration
-- Each accepted attestation looks up the shipments bound for its site (delivered chips, installation).
CREATE INDEX IF NOT EXISTS shipments_destination_site ON shipments ((destination->>'siteId'));
