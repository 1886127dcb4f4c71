-- frontdesk schema 23: agents following a ticket they do not own. The ticket is in their
-- Following view while it is open, and (if they want) they get mail when the customer
-- writes, a colleague replies or adds a note.
CREATE TABLE followers (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, ticket_id)
) WITHOUT ROWID;
CREATE INDEX followers_ticket ON followers(ticket_id);
ALTER TABLE users ADD COLUMN notify_followed INTEGER NOT NULL DEFAULT 1;
