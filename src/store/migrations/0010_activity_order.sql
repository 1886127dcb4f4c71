-- frontdesk schema 10: tickets in the exact order of their last activity. updated_at
-- holds whole seconds, so two tickets touched in the same second fell back to id order.
-- `activity` is a desk-wide counter: every write that touches updated_at (a message, a
-- reply, an assignment, a status, a tag, a merge) moves the ticket to the top, by the
-- triggers below, so no writer can forget it.
ALTER TABLE tickets ADD COLUMN activity INTEGER NOT NULL DEFAULT 0;
UPDATE tickets SET activity = o.n
    FROM (SELECT id, row_number() OVER (ORDER BY updated_at, id) AS n FROM tickets) AS o
    WHERE o.id = tickets.id;
-- The counter's top (and the "all" view, newest first).
CREATE INDEX tickets_activity ON tickets(activity);
CREATE TRIGGER tickets_activity_new AFTER INSERT ON tickets BEGIN
    UPDATE tickets SET activity = (SELECT COALESCE(MAX(activity), 0) + 1 FROM tickets)
        WHERE id = NEW.id;
END;
CREATE TRIGGER tickets_activity_touch AFTER UPDATE OF updated_at ON tickets BEGIN
    UPDATE tickets SET activity = (SELECT COALESCE(MAX(activity), 0) + 1 FROM tickets)
        WHERE id = NEW.id;
END;
-- Schema 8's inbox indexes, by the counter instead of the second.
DROP INDEX tickets_owner_updated;
CREATE INDEX tickets_owner_activity ON tickets(owner, closed, activity DESC)
    WHERE merged_into IS NULL;
DROP INDEX tickets_closed_updated;
CREATE INDEX tickets_closed_activity ON tickets(closed, activity DESC)
    WHERE merged_into IS NULL;
DROP INDEX tickets_contact_updated;
CREATE INDEX tickets_contact_activity ON tickets(contact_id, activity DESC);
