-- Up Migration
-- Licences are records compliance grants; shipments cite them by id; every grant, change, revocation, citation and
-- change of a shipment's policy is a row of policy_audit, hash-chained per subject (src/evidence/policy-audit.ts)
-- and append-only. A licence covers its countries only while it is not revoked and now() lies in [valid_from,
-- valid_to): the checks read that at check time (src/db/shipments.ts), so a revocation or expiry acts at once.
CREATE TABLE licences (
  id text PRIMARY KEY,
  number text NOT NULL,
  countries text[] NOT NULL CHECK (cardinality(countries) > 0),
  items text[] NOT NULL DEFAULT '{}',
  end_user text NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz NOT NULL,
  notes text,
  granted_by text NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  revoked_by text,
  revoke_reason text,
  CHECK (valid_to > valid_from)
);

CREATE TABLE shipment_licences (
  shipment_id text NOT NULL REFERENCES shipments (id),
  licence_id text NOT NULL REFERENCES licences (id),
  cited_by text NOT NULL,
  cited_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (shipment_id, licence_id)
);
CREATE INDEX shipment_licences_by_licence ON shipment_licences (licence_id);

-- subject: 'licence:<id>' or 'shipment:<id>'; each subject's rows form one chain from the genesis hash (64 zeros).
CREATE TABLE policy_audit (
  id bigserial PRIMARY KEY,
  subject text NOT NULL,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  role text NOT NULL,
  action text NOT NULL CHECK (action IN ('granted', 'changed', 'revoked', 'cited', 'uncited', 'registered', 'policy_changed')),
  reason text,
  details jsonb NOT NULL DEFAULT '{}',
  prev_hash text NOT NULL,
  hash text NOT NULL UNIQUE
);
CREATE INDEX policy_audit_by_subject ON policy_audit (subject, id);

-- Append-only: a row once written is never changed or removed (the hash chain shows it if someone does it anyway).
CREATE FUNCTION policy_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'policy_audit is append-only';
END
$$;
CREATE TRIGGER policy_audit_no_change BEFORE UPDATE OR DELETE ON policy_audit
  FOR EACH ROW EXECUTE FUNCTION policy_audit_append_only();
CREATE TRIGGER policy_audit_no_truncate BEFORE TRUNCATE ON policy_audit
  FOR EACH STATEMENT EXECUTE FUNCTION policy_audit_append_only();
