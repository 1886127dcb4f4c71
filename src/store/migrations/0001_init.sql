-- frontdesk schema 1: contacts, tickets, messages, attachments, threading index,
-- idempotency keys, event log, full-text search.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE contacts (
    id         INTEGER PRIMARY KEY,
    email      TEXT NOT NULL UNIQUE,
    name       TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE tickets (
    id           INTEGER PRIMARY KEY,
    subject      TEXT NOT NULL,
    status       TEXT NOT NULL,
    channel      TEXT NOT NULL,
    contact_id   INTEGER NOT NULL REFERENCES contacts(id),
    owner        TEXT,
    merged_into  INTEGER REFERENCES tickets(id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX tickets_updated ON tickets(updated_at DESC, id DESC);
CREATE INDEX tickets_contact ON tickets(contact_id);

-- People on a ticket: its customer, people on To/Cc, forwarders.
CREATE TABLE ticket_participants (
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    role       TEXT NOT NULL CHECK (role IN ('customer', 'participant', 'forwarder')),
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, contact_id)
) WITHOUT ROWID;

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    ticket_id     INTEGER NOT NULL REFERENCES tickets(id),
    direction     TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'note')),
    channel       TEXT NOT NULL,
    source        TEXT NOT NULL,
    message_id    TEXT,
    contact_id    INTEGER REFERENCES contacts(id),
    from_email    TEXT,
    from_name     TEXT,
    forwarded_by  TEXT,
    forward_style TEXT,
    subject       TEXT NOT NULL,
    headers       TEXT NOT NULL,
    text_body     TEXT NOT NULL,
    html_body     TEXT,
    raw           BLOB,
    auto          TEXT,
    own_address   INTEGER NOT NULL DEFAULT 0,
    historical    INTEGER NOT NULL DEFAULT 0,
    thread_reason TEXT NOT NULL,
    sent_at       INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE INDEX messages_ticket ON messages(ticket_id, id);
CREATE INDEX messages_message_id ON messages(message_id);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES messages(id),
    filename     TEXT,
    content_type TEXT NOT NULL,
    content_id   TEXT,
    inline       INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    -- Index among the message's attachments: the bytes are decoded from the raw
    -- message on demand instead of being stored a second time.
    position     INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments(message_id);

-- Every Message-ID seen (a message's own and those it references) and its ticket:
-- the union of these links is the thread, whatever order messages arrive in.
CREATE TABLE thread_ids (
    msgid     TEXT PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id)
) WITHOUT ROWID;
CREATE INDEX thread_ids_ticket ON thread_ids(ticket_id);

-- Invariant 2: one row per ingested message key; a key seen again is a no-op.
CREATE TABLE ingest_keys (
    key        TEXT PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id)
) WITHOUT ROWID;

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER REFERENCES tickets(id),
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    detail     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_ticket ON events(ticket_id, id);

-- Per-channel ingest counters, kept in the same transaction as the messages.
CREATE TABLE channel_stats (
    channel          TEXT PRIMARY KEY,
    messages         INTEGER NOT NULL DEFAULT 0,
    duplicates       INTEGER NOT NULL DEFAULT 0,
    last_message_at  INTEGER
) WITHOUT ROWID;

CREATE VIRTUAL TABLE search USING fts5(subject, body, contact, tokenize = 'unicode61 remove_diacritics 2');
