-- frontdesk schema 12: snoozed tickets. An open ticket snoozed until a time leaves the
-- open views until then (or until the customer writes), then comes back on top.
ALTER TABLE tickets ADD COLUMN snoozed_until INTEGER;
CREATE INDEX tickets_snoozed ON tickets(snoozed_until) WHERE snoozed_until IS NOT NULL;
