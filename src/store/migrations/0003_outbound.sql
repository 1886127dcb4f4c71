-- frontdesk schema 3: agents (minimal until the routing issue adds teams) and the
-- durable outbox. An outgoing message row and its outbox entry are written in one
-- transaction; the worker only ever moves an entry forward.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    admin         INTEGER NOT NULL DEFAULT 0,
    seat          INTEGER NOT NULL DEFAULT 0,
    available     INTEGER NOT NULL DEFAULT 1,
    active        INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT,
    created_at    INTEGER NOT NULL
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_row     INTEGER NOT NULL REFERENCES messages(id),
    ticket_id       INTEGER NOT NULL REFERENCES tickets(id),
    channel         TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('reply', 'acknowledgement')),
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
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox(kind, recipients, created_at);
