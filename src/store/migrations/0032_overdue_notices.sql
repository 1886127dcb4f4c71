-- frontdesk schema 32: agents hear when a customer's answer becomes overdue (`[sla]`),
-- and (from schema 33, which adds ratings) when a customer rates their reply badly.
-- New reasons for notifications (the table is rebuilt for its CHECK, keeping its
-- numbers: pages that were told of notification N must never be told of another N);
-- each agent chooses whether they hear of it; and each ticket remembers which wait it
-- was told about, so one wait is told once, and the customer's next wait again.
CREATE TABLE notifications_v32 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    reason      TEXT NOT NULL CHECK (reason IN ('assigned', 'customer-reply', 'mention', 'new-ticket',
                                            'followed', 'overdue', 'bad-rating')),
    actor       TEXT NOT NULL,
    -- The message it is about (a customer's mail, a note); NULL for an assignment.
    message_row INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL
);
-- The numbers go on from the old table's, even when none of its rows is left.
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'notifications_v32', seq FROM sqlite_sequence WHERE name = 'notifications';
INSERT INTO notifications_v32 (id, user_id, ticket_id, reason, actor, message_row, created_at)
    SELECT id, user_id, ticket_id, reason, actor, message_row, created_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_v32 RENAME TO notifications;
CREATE INDEX notifications_due ON notifications(created_at);
-- One message can concern an agent for two reasons (a mention on a ticket they follow):
-- the second looks the first up by message, and is not written.
CREATE INDEX notifications_message ON notifications(message_row) WHERE message_row IS NOT NULL;

ALTER TABLE users ADD COLUMN notify_overdue INTEGER NOT NULL DEFAULT 1;
-- The `waiting_since` of the wait whose lateness was told (NULL: none told yet).
ALTER TABLE tickets ADD COLUMN overdue_told INTEGER;
