-- Up Migration
-- The id grammar excludes "." and ".." (a URL cannot carry them: they are dot-segments). The API refuses them; the
-- channels table, the one table that checks its ids itself, follows.
ALTER TABLE channels DROP CONSTRAINT IF EXISTS channels_id_check;
ALTER TABLE channels ADD CONSTRAINT channels_id_check
  CHECK (id ~ '^[A-Za-z0-9._:-]{1,128}$' AND id NOT IN ('.', '..'));
