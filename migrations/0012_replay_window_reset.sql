-- Up Migration
-- An administrator may reset a tracker's or site's replay window (after a counter jumped, or a device was
-- re-provisioned): audited in the append-only policy audit, on the subject `device:<id>` or `site:<id>`.
ALTER TABLE policy_audit DROP CONSTRAINT IF EXISTS policy_audit_action_check;
ALTER TABLE policy_audit ADD CONSTRAINT policy_audit_action_check CHECK (
  action IN ('granted', 'changed', 'revoked', 'cited', 'uncited', 'registered', 'policy_changed', 'window_reset')
);
