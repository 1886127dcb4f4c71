-- frontdesk schema 21: mail to agents about their tickets. What happened is written in
-- the same transaction as the change (so nothing is lost); the notifier turns what is
-- due into one mail per agent. Each agent chooses what they hear about.
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    reason      TEXT NOT NULL CHECK (reason IN ('assigned', 'customer-reply', 'mention', 'new-ticket',
                                            'followed')),
    actor       TEXT NOT NULL,
    -- The message it is about (a customer's mail, a note); NULL for an assignment.
    message_row INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX notifications_due ON notifications(created_at);
-- One message can concern an agent for two reasons (a mention on a ticket they follow):
-- the second looks the first up by message, and is not written.
CREATE INDEX notifications_message ON notifications(message_row) WHERE message_row IS NOT NULL;

ALTER TABLE users ADD COLUMN notify_assigned INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN notify_replies INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN notify_mentions INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN notify_new INTEGER NOT NULL DEFAULT 0;

-- A notification is mail in the outbox that belongs to no thread: the message row may be
-- NULL and the mail is kept in the entry itself. SQLite cannot relax NOT NULL or widen
-- a CHECK in place: the table is rebuilt, keeping every row and index. The rebuilt table
-- also records which mail a forward sent.
CREATE TABLE outbox_v21 (
    id              INTEGER PRIMARY KEY,
    message_row     INTEGER REFERENCES messages(id),
    ticket_id       INTEGER NOT NULL REFERENCES tickets(id),
    channel         TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('reply', 'acknowledgement', 'forward', 'notification')),
    mail_from       TEXT NOT NULL,
    recipients      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    status_before   TEXT,
    status_after    TEXT,
    draft           TEXT,
    raw             BLOB,
    -- For a forward: the ticket's mail it sent (so a cancelled forward can be edited
    -- again with that mail picked).
    source_row      INTEGER REFERENCES messages(id)
);
INSERT INTO outbox_v21 (id, message_row, ticket_id, channel, kind, mail_from, recipients, status,
        attempts, next_attempt_at, last_error, created_at, expires_at, sent_at, status_before,
        status_after, draft)
    SELECT id, message_row, ticket_id, channel, kind, mail_from, recipients, status, attempts,
        next_attempt_at, last_error, created_at, expires_at, sent_at, status_before, status_after,
        draft FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v21 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox(kind, recipients, created_at);
CREATE INDEX outbox_queued ON outbox(id) WHERE status = 'queued';
CREATE INDEX outbox_message ON outbox(message_row);
