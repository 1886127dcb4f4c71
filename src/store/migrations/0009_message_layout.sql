-- frontdesk schema 9: a message row holds what the pages read, in the order they read it.
-- SQLite reaches a column that lies past a long value by following the row's overflow
-- pages, so with the raw mail in the middle of the row a thread view read every
-- message's whole raw mail just to learn its date. The raw mail moves to its own table
-- (read only to send it and to cut an attachment out of it); the short fields come
-- first, then the bodies, then the header block (kept, never shown).
-- Runs with foreign keys off (schema::migrate), which checks them before committing.
CREATE TABLE message_raw (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id),
    raw        BLOB NOT NULL
);
INSERT INTO message_raw (message_id, raw)
    SELECT id, raw FROM messages WHERE raw IS NOT NULL;

CREATE TABLE messages_v9 (
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
    auto          TEXT,
    own_address   INTEGER NOT NULL DEFAULT 0,
    historical    INTEGER NOT NULL DEFAULT 0,
    thread_reason TEXT NOT NULL,
    sent_at       INTEGER,
    created_at    INTEGER NOT NULL,
    fields        TEXT,
    text_body     TEXT NOT NULL,
    html_body     TEXT,
    headers       TEXT NOT NULL
);
INSERT INTO messages_v9 (id, ticket_id, direction, channel, source, message_id, contact_id,
        from_email, from_name, forwarded_by, forward_style, subject, auto, own_address,
        historical, thread_reason, sent_at, created_at, fields, text_body, html_body, headers)
    SELECT id, ticket_id, direction, channel, source, message_id, contact_id,
        from_email, from_name, forwarded_by, forward_style, subject, auto, own_address,
        historical, thread_reason, sent_at, created_at, fields, text_body, html_body, headers
    FROM messages ORDER BY id;
DROP TABLE messages;
ALTER TABLE messages_v9 RENAME TO messages;
-- The direction rides in the ticket index: the inbox's "who spoke last" reads only it.
CREATE INDEX messages_ticket ON messages(ticket_id, id, direction);
CREATE INDEX messages_message_id ON messages(message_id);
