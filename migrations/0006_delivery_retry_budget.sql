-- Up Migration
-- A manual retry gives a dead delivery a fresh attempt budget without reusing attempt numbers: `attempts` only
-- grows (a dispatcher whose lease ran out can never record over a newer attempt), and the budget counts from here.
ALTER TABLE deliveries ADD COLUMN attempts_before_retry integer NOT NULL DEFAULT 0;
