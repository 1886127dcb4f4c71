-- frontdesk schema 31: answer-time targets ([sla]). Each ticket keeps since when its
-- customer has waited for an answer (their oldest mail after the desk's last answer; NULL
-- when nobody waits) and whether it was ever answered (first or next answer target).
-- An answer is an outbound message that went to the customer: a reply the relay took,
-- or one that came from outside the outbox (history imported). Acknowledgements,
-- forwards, and replies cancelled or not yet sent are not answers; automatic mail,
-- mail from the desk's own addresses and imported history do not make anyone wait.
-- Triggers keep both, on messages (a mail in, a mail moved by a merge or split) and on
-- the outbox (a reply sent), so no writer can forget.
ALTER TABLE tickets ADD COLUMN waiting_since INTEGER;
ALTER TABLE tickets ADD COLUMN answered INTEGER NOT NULL DEFAULT 0;
-- The Overdue view: open tickets someone waits on, by kind of wait and priority (each
-- has its own target), then since when; with every column the view reads (`closed`
-- too, which its condition names), so it reads the index alone.
CREATE INDEX tickets_waiting ON tickets(answered, priority, waiting_since, merged_into, closed)
    WHERE waiting_since IS NOT NULL AND closed = 0;
-- The one recount, as SQLite can share it between triggers: a row written into this
-- view counts its ticket's wait again (and is stored nowhere).
CREATE VIEW ticket_wait_recount (ticket_id) AS SELECT NULL;
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
-- Every ticket of an older version, once.
INSERT INTO ticket_wait_recount SELECT id FROM tickets;
-- A customer's mail starts a wait unless one is running (it is the newest message, so
-- nothing answered it yet): the common insert costs one row write, no recount.
CREATE TRIGGER messages_wait_inbound AFTER INSERT ON messages
    WHEN NEW.direction = 'inbound' AND NEW.auto IS NULL AND NEW.own_address = 0 AND NEW.historical = 0
BEGIN
    UPDATE tickets SET waiting_since = COALESCE(waiting_since, NEW.created_at) WHERE id = NEW.ticket_id;
END;
-- An outbound message may be an answer (its outbox row, written next, says otherwise).
CREATE TRIGGER messages_wait_outbound AFTER INSERT ON messages WHEN NEW.direction = 'outbound' BEGIN
    INSERT INTO ticket_wait_recount VALUES (NEW.ticket_id);
END;
-- What a message is, changed afterwards (not done by frontdesk itself).
CREATE TRIGGER messages_wait_kind AFTER UPDATE OF direction, auto, own_address, historical ON messages BEGIN
    INSERT INTO ticket_wait_recount VALUES (NEW.ticket_id);
END;
CREATE TRIGGER messages_wait_delete AFTER DELETE ON messages BEGIN
    INSERT INTO ticket_wait_recount VALUES (OLD.ticket_id);
END;
CREATE TRIGGER messages_wait_move AFTER UPDATE OF ticket_id ON messages BEGIN
    INSERT INTO ticket_wait_recount VALUES (OLD.ticket_id);
    INSERT INTO ticket_wait_recount VALUES (NEW.ticket_id);
END;
CREATE TRIGGER outbox_wait_insert AFTER INSERT ON outbox BEGIN
    INSERT INTO ticket_wait_recount VALUES (NEW.ticket_id);
END;
CREATE TRIGGER outbox_wait_sent AFTER UPDATE OF sent_at, kind, status ON outbox BEGIN
    INSERT INTO ticket_wait_recount VALUES (NEW.ticket_id);
END;
