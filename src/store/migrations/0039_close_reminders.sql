-- frontdesk schema 39: a reminder before the desk closes a ticket left waiting on the
-- customer ([channel.auto_close] remind). The outbox takes a new kind of mail,
-- 'reminder'. SQLite cannot widen a CHECK in place: the table is rebuilt with every
-- row, index and trigger it had, as in schema 37; the wait recount (schema 31) reads
-- the outbox, so it is set aside while the table is away.
DROP TRIGGER ticket_wait_recount;
CREATE TABLE outbox_v39 (
    id              INTEGER PRIMARY KEY,
    message_row     INTEGER REFERENCES messages(id),
    ticket_id       INTEGER NOT NULL REFERENCES tickets(id),
    channel         TEXT NOT NULL,
    kind            TEXT NOT NULL
        CHECK (kind IN ('reply', 'acknowledgement', 'forward', 'notification', 'survey',
                         'reminder')),
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
    source_row      INTEGER REFERENCES messages(id),
    moves_when_sent TEXT
);
INSERT INTO outbox_v39 (id, message_row, ticket_id, channel, kind, mail_from, recipients, status,
        attempts, next_attempt_at, last_error, created_at, expires_at, sent_at, status_before,
        status_after, draft, raw, source_row, moves_when_sent)
    SELECT id, message_row, ticket_id, channel, kind, mail_from, recipients, status, attempts,
        next_attempt_at, last_error, created_at, expires_at, sent_at, status_before, status_after,
        draft, raw, source_row, moves_when_sent FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v39 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox(kind, recipients, created_at);
CREATE INDEX outbox_queued ON outbox(id) WHERE status = 'queued';
CREATE INDEX outbox_message ON outbox(message_row);
CREATE INDEX outbox_replies_sent ON outbox(sent_at) WHERE kind = 'reply' AND sent_at IS NOT NULL;
CREATE TRIGGER ticket_wait_recount INSTEAD OF INSERT ON ticket_wait_recount BEGIN
    UPDATE tickets SET
        answered = EXISTS (SELECT 1 FROM messages a
             WHERE a.ticket_id = NEW.ticket_id AND a.direction = 'outbound'
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_row = a.id
                               AND (o.kind <> 'reply' OR o.sent_at IS NULL))),
        waiting_since = (SELECT MIN(w.created_at) FROM messages w
            WHERE w.ticket_id = NEW.ticket_id AND w.direction = 'inbound'
              AND w.auto IS NULL AND w.own_address = 0 AND w.historical = 0
              AND w.id > COALESCE((SELECT MAX(a.id) FROM messages a
             WHERE a.ticket_id = NEW.ticket_id AND a.direction = 'outbound'
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_row = a.id
                               AND (o.kind <> 'reply' OR o.sent_at IS NULL))), 0))
    WHERE id = NEW.ticket_id;
END;
CREATE TRIGGER outbox_wait_insert AFTER INSERT ON outbox BEGIN
    INSERT INTO ticket_wait_recount VALUES (NEW.ticket_id);
END;
CREATE TRIGGER outbox_wait_sent AFTER UPDATE OF sent_at, kind, status ON outbox BEGIN
    INSERT INTO ticket_wait_recount VALUES (NEW.ticket_id);
END;
-- Which waits were reminded: one row per ticket and last change it was sent for (the
-- reminder does not change the ticket, so its clock keeps running). message_row is
-- NULL when no mail could go (a blocked or unknown customer): the ticket then closes
-- on its span alone. queued_at is when it went, from which the closing counts.
CREATE TABLE close_reminders (
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    last_change INTEGER NOT NULL,
    message_row INTEGER REFERENCES messages(id),
    queued_at   INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, last_change)
) WITHOUT ROWID;
