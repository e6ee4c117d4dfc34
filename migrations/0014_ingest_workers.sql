-- Up Migration
-- Ingest workers that route by sender (INGEST_ROUTING=by-sender) announce themselves here: each renews its row every
-- third of its lease; the workers seen within the lease share the trackers and sites by rendezvous hashing
-- (src/ingest/owners.ts), so every sender's messages are handled, in order, by exactly one worker.
CREATE TABLE IF NOT EXISTS ingest_workers (
  worker_id  text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  seen_at    timestamptz NOT NULL DEFAULT now()
);
