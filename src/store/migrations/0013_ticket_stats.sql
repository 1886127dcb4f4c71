-- frontdesk schema 13: each ticket keeps its number of messages, its newest message and
-- who wrote last (notes aside), so an inbox row reads them from the ticket instead of
-- three lookups into the messages. Triggers on messages keep them, so no writer (ingest,
-- reply, note, merge) can forget; each recomputes the ticket it touched.
ALTER TABLE tickets ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN last_message INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN last_speaker TEXT;
UPDATE tickets SET
    message_count = (SELECT COUNT(*) FROM messages m WHERE m.ticket_id = tickets.id),
    last_message = (SELECT COALESCE(MAX(m.id), 0) FROM messages m WHERE m.ticket_id = tickets.id),
    last_speaker = (SELECT m.direction FROM messages m
                    WHERE m.ticket_id = tickets.id AND m.direction <> 'note'
                    ORDER BY m.id DESC LIMIT 1);
CREATE TRIGGER messages_stats_insert AFTER INSERT ON messages BEGIN
    UPDATE tickets SET
        message_count = (SELECT COUNT(*) FROM messages m WHERE m.ticket_id = tickets.id),
        last_message = (SELECT COALESCE(MAX(m.id), 0) FROM messages m WHERE m.ticket_id = tickets.id),
        last_speaker = (SELECT m.direction FROM messages m
                        WHERE m.ticket_id = tickets.id AND m.direction <> 'note'
                        ORDER BY m.id DESC LIMIT 1)
    WHERE id = NEW.ticket_id;
END;
CREATE TRIGGER messages_stats_delete AFTER DELETE ON messages BEGIN
    UPDATE tickets SET
        message_count = (SELECT COUNT(*) FROM messages m WHERE m.ticket_id = tickets.id),
        last_message = (SELECT COALESCE(MAX(m.id), 0) FROM messages m WHERE m.ticket_id = tickets.id),
        last_speaker = (SELECT m.direction FROM messages m
                        WHERE m.ticket_id = tickets.id AND m.direction <> 'note'
                        ORDER BY m.id DESC LIMIT 1)
    WHERE id = OLD.ticket_id;
END;
CREATE TRIGGER messages_stats_move AFTER UPDATE OF ticket_id ON messages BEGIN
    UPDATE tickets SET
        message_count = (SELECT COUNT(*) FROM messages m WHERE m.ticket_id = tickets.id),
        last_message = (SELECT COALESCE(MAX(m.id), 0) FROM messages m WHERE m.ticket_id = tickets.id),
        last_speaker = (SELECT m.direction FROM messages m
                        WHERE m.ticket_id = tickets.id AND m.direction <> 'note'
                        ORDER BY m.id DESC LIMIT 1)
    WHERE id IN (OLD.ticket_id, NEW.ticket_id);
END;
