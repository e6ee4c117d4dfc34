-- Up Migration
-- Alert delivery: the outbox of alert events (written in the alert's own transaction), delivery channels, one
-- delivery row per (event, channel) claimed by dispatchers, and what each channel was last told about each alert.

-- Routing by customer: which customer a shipment is for (optional).
ALTER TABLE shipments ADD COLUMN customer text;

CREATE TABLE channels (
  id               text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._:-]{1,128}$'),
  type             text NOT NULL CHECK (type IN ('webhook', 'email', 'mqtt')),
  url              text,
  -- HMAC key of webhook signatures; never returned by the API.
  secret           text,
  recipients       text[],
  -- MQTT topic base; NULL: {MQTT_TOPIC_PREFIX}/alerts.
  topic            text,
  min_severity     text NOT NULL DEFAULT 'info' CHECK (min_severity IN ('info', 'warning', 'critical')),
  -- Routing filters; NULL: no filter.
  types            text[],
  shipment_ids     text[],
  customers        text[],
  renotify_after_s integer NOT NULL DEFAULT 3600 CHECK (renotify_after_s >= 0),
  enabled          boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  created_by       text,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  -- Deleted channels are kept (their deliveries refer to them) but never routed to again.
  deleted_at       timestamptz,
  CHECK (
    (type = 'webhook' AND url IS NOT NULL AND secret IS NOT NULL)
    OR (type = 'email' AND cardinality(recipients) > 0)
    OR type = 'mqtt'
  )
);

-- The outbox: one row per alert change, inserted in the transaction that made the change. `id` is allocated at
-- insert, so ids can commit out of order; the router numbers rows with `seq` one transaction at a time (under an
-- advisory lock), so a reader that has seen seq N can never later find a row below N: `seq` is the SSE event id.
CREATE TABLE alert_events (
  id         bigserial PRIMARY KEY,
  seq        bigint UNIQUE,
  alert_id   bigint NOT NULL REFERENCES alerts (id),
  action     text NOT NULL CHECK (action IN ('opened', 'updated', 'acknowledged', 'resolved', 'auto_resolved')),
  actor      text,
  note       text,
  -- The alert row as committed with this change.
  alert      jsonb NOT NULL,
  -- Set when routed: the evidence was older than ALERT_LATE_AFTER_S when chipwatch first saw it.
  late       boolean,
  created_at timestamptz NOT NULL DEFAULT now(),
  routed_at  timestamptz
);
CREATE INDEX alert_events_unrouted ON alert_events (id) WHERE seq IS NULL;

-- One delivery per (event, channel); its id is the idempotency key receivers dedupe by (X-Chipwatch-Delivery).
CREATE TABLE deliveries (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id        bigint NOT NULL REFERENCES alert_events (id),
  channel_id      text NOT NULL REFERENCES channels (id),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  -- Due time; a claim moves it one lease ahead, so a dispatcher that dies mid-delivery frees the row.
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_by      text,
  last_error      text,
  last_status     integer,
  created_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  dead_at         timestamptz,
  UNIQUE (event_id, channel_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_channel ON deliveries (channel_id, created_at DESC, id DESC);
CREATE INDEX deliveries_status ON deliveries (status, created_at DESC, id DESC);

-- Quiet duplicates: what each channel was last told about each open alert.
CREATE TABLE delivery_notify_state (
  channel_id       text NOT NULL REFERENCES channels (id),
  alert_id         bigint NOT NULL REFERENCES alerts (id),
  last_notified_at timestamptz NOT NULL,
  last_severity    text NOT NULL,
  PRIMARY KEY (alert_id, channel_id)
);
