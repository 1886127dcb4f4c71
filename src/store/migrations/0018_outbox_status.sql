-- frontdesk schema 18: what an agent's reply did to its ticket's status, so that
-- cancelling the reply before it is sent puts the status back (unless it moved since).
ALTER TABLE outbox ADD COLUMN status_before TEXT;
ALTER TABLE outbox ADD COLUMN status_after TEXT;
