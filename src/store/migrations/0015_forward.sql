-- frontdesk schema 15: forwards. An agent can forward a ticket's mail to someone outside
-- the desk; the outbox records it as its own kind (a forward moves no status and
-- copies no one onto the ticket). SQLite cannot widen a CHECK in place: the table is
-- rebuilt, keeping every row and index.
CREATE TABLE outbox_v15 (
    id              INTEGER PRIMARY KEY,
    message_row     INTEGER NOT NULL REFERENCES messages(id),
    ticket_id       INTEGER NOT NULL REFERENCES tickets(id),
    channel         TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('reply', 'acknowledgement', 'forward')),
    mail_from       TEXT NOT NULL,
    recipients      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
INSERT INTO outbox_v15 SELECT id, message_row, ticket_id, channel, kind, mail_from, recipients,
    status, attempts, next_attempt_at, last_error, created_at, expires_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v15 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox(kind, recipients, created_at);
CREATE INDEX outbox_queued ON outbox(id) WHERE status = 'queued';
