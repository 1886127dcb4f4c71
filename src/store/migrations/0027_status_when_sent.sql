-- frontdesk schema 27: a reply scheduled for later moves its ticket's status when it
-- goes, not when it is scheduled. The agent who wrote it (for the history), until then.
ALTER TABLE outbox ADD COLUMN moves_when_sent TEXT;
