-- frontdesk schema 7: the outbox worker reads queued entries in id order; this index
-- holds only the queued ones, so the read never walks the sent history.
CREATE INDEX outbox_queued ON outbox(id) WHERE status = 'queued';
