-- Up Migration
-- Shipments and their check state, custom zones, alerts with their audit trail.

CREATE TABLE shipments (
  id                   text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
  reference            text,
  device_id            text NOT NULL REFERENCES devices (id),
  mode                 text NOT NULL CHECK (mode IN ('sea', 'air', 'road')),
  origin               jsonb NOT NULL,
  destination          jsonb NOT NULL,
  route                jsonb NOT NULL,
  route_length_km      double precision NOT NULL,
  corridor_km          double precision NOT NULL,
  report_interval_s    integer NOT NULL,
  chips                text[] NOT NULL DEFAULT '{}',
  restricted_countries text[],
  licenses             jsonb NOT NULL DEFAULT '[]',
  planned_stops        jsonb NOT NULL DEFAULT '[]',
  params               jsonb NOT NULL DEFAULT '{}',
  status               text NOT NULL DEFAULT 'planned'
                       CHECK (status IN ('planned', 'in_transit', 'arrived', 'installed', 'cancelled')),
  check_state          jsonb NOT NULL DEFAULT '{}',
  last_fix_ts          timestamptz,
  last_lat             double precision,
  last_lon             double precision,
  progress_km          double precision,
  created_at           timestamptz NOT NULL DEFAULT now(),
  created_by           text,
  started_at           timestamptz,
  arrived_at           timestamptz
);
-- A tracker rides with one active shipment at a time.
CREATE UNIQUE INDEX shipments_one_active_per_device ON shipments (device_id) WHERE status IN ('planned', 'in_transit');
CREATE INDEX shipments_status ON shipments (status, created_at DESC, id);
CREATE INDEX shipments_in_transit_last_fix ON shipments (last_fix_ts) WHERE status = 'in_transit';

CREATE TABLE zones (
  id         text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
  name       text NOT NULL,
  tier       text NOT NULL CHECK (tier IN ('restricted', 'licenseRequired', 'watch')),
  country    text,
  geometry   jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text
);

CREATE TABLE alerts (
  id           bigserial PRIMARY KEY,
  type         text NOT NULL,
  severity     text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
  -- What the alert is about: a shipment id, or `device:<id>` for a tracker bound to no shipment.
  subject      text NOT NULL,
  shipment_id  text REFERENCES shipments (id),
  device_id    text,
  site_id      text,
  opened_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  -- Device time of the first and latest evidence.
  first_evidence_at timestamptz,
  last_evidence_at  timestamptz,
  count        integer NOT NULL DEFAULT 1,
  details      jsonb NOT NULL DEFAULT '{}',
  resolved_at  timestamptz,
  resolved_by  text,
  resolution   text
);
-- One open alert per (type, subject): repeated evidence updates it.
CREATE UNIQUE INDEX alerts_one_open ON alerts (type, subject) WHERE status <> 'resolved';
CREATE INDEX alerts_shipment ON alerts (shipment_id, opened_at DESC);
CREATE INDEX alerts_status ON alerts (status, opened_at DESC, id DESC);

CREATE TABLE alert_audit (
  id        bigserial PRIMARY KEY,
  alert_id  bigint NOT NULL REFERENCES alerts (id),
  at        timestamptz NOT NULL DEFAULT now(),
  actor     text NOT NULL,
  action    text NOT NULL CHECK (action IN ('opened', 'acknowledged', 'resolved', 'auto_resolved', 'escalated')),
  note      text,
  details   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_audit_alert ON alert_audit (alert_id, id);
