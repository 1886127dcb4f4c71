-- frontdesk schema 29: which ticket each message is on, in message order, apart from
-- the messages' long rows. A search with filters looks up the ticket of every matching
-- mail it walks; through this index those lookups share pages instead of each reading
-- a message's row.
CREATE INDEX IF NOT EXISTS messages_ticket_of ON messages(id, ticket_id);
