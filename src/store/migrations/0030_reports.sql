-- frontdesk schema 30: what the reports page counts.
-- When a ticket was closed: set when an agent, a rule or a reply moves it to a closed
-- stage, cleared when it opens again. NULL on a ticket filed closed as it arrived
-- (history imported, a blocked sender's mail), which no report counts as work done.
ALTER TABLE tickets ADD COLUMN closed_at INTEGER;
-- Tickets closed before this version: the time of their last status change; those that
-- never had one were filed closed.
UPDATE tickets SET closed_at = (
    SELECT MAX(e.created_at) FROM events e WHERE e.ticket_id = tickets.id AND e.kind = 'status'
) WHERE closed = 1;
CREATE INDEX tickets_created ON tickets(created_at);
CREATE INDEX tickets_closed_at ON tickets(closed_at) WHERE closed_at IS NOT NULL;
-- Replies sent in a period, for first response times and each agent's count.
CREATE INDEX outbox_replies_sent ON outbox(sent_at) WHERE kind = 'reply' AND sent_at IS NOT NULL;
