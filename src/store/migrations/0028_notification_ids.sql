-- frontdesk schema 28: notifications get numbers that are never used twice, so the desk
-- can tell an agent's open pages of each new one exactly once (a mailed notification
-- is deleted; a plain rowid would give its number to the next).
CREATE TABLE notifications_v28 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    reason      TEXT NOT NULL CHECK (reason IN ('assigned', 'customer-reply', 'mention', 'new-ticket',
                                            'followed')),
    actor       TEXT NOT NULL,
    -- The message it is about (a customer's mail, a note); NULL for an assignment.
    message_row INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL
);
INSERT INTO notifications_v28 (id, user_id, ticket_id, reason, actor, message_row, created_at)
    SELECT id, user_id, ticket_id, reason, actor, message_row, created_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_v28 RENAME TO notifications;
CREATE INDEX notifications_due ON notifications(created_at);
-- One message can concern an agent for two reasons (a mention on a ticket they follow):
-- the second looks the first up by message, and is not written.
CREATE INDEX notifications_message ON notifications(message_row) WHERE message_row IS NOT NULL;
