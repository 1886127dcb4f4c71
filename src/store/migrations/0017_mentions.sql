-- frontdesk schema 17: agents named with @ in an internal note. The ticket stays in the
-- agent's Mentions view while it is open; merging moves the mentions along.
CREATE TABLE mentions (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    message_row INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, ticket_id, message_row)
) WITHOUT ROWID;
